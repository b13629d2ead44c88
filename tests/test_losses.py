import math

import keras
import numpy as np
import pytest

from vae_tf import (ReconstructionLoss, ReconstructionMetric,
                    negative_log_likelihood)


def test_bernoulli_matches_hand_computed_values():
    x = np.array([[[[1.0], [0.0]]]], np.float32)  # (1, 1, 2, 1)
    logits = np.array([[[[2.0], [-1.0]]]], np.float32)
    # -log sigmoid(2) - log(1 - sigmoid(-1)) = log(1+e^-2) + log(1+e^-1)
    expected = math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0))
    nll = negative_log_likelihood(x, logits, "bernoulli").numpy()
    assert nll.shape == (1,)
    np.testing.assert_allclose(nll[0], expected, rtol=1e-6)


def test_bernoulli_is_stable_for_extreme_logits():
    x = np.array([[[[1.0], [0.0]]]], np.float32)
    logits = np.array([[[[-200.0], [300.0]]]], np.float32)
    nll = negative_log_likelihood(x, logits, "bernoulli").numpy()
    np.testing.assert_allclose(nll[0], 500.0, rtol=1e-6)


def test_gaussian_matches_hand_computed_values():
    x = np.array([[[[0.2, 0.9]]]], np.float32)
    mean = np.array([[[[0.5, 0.8]]]], np.float32)
    s = 0.1
    expected = sum(
        0.5 * ((a - b) / s) ** 2 + math.log(s) + 0.5 * math.log(2 * math.pi)
        for a, b in ((0.2, 0.5), (0.9, 0.8))
    )
    nll = negative_log_likelihood(x, mean, "gaussian", s).numpy()
    np.testing.assert_allclose(nll[0], expected, rtol=1e-5)


def test_laplace_is_scaled_l1_plus_normaliser():
    x = np.array([[[[0.2, 0.9]]], [[[0.0, 0.0]]]], np.float32)  # batch 2
    loc = np.zeros_like(x)
    b = 0.05
    nll = negative_log_likelihood(x, loc, "laplace", b).numpy()
    np.testing.assert_allclose(
        nll, [1.1 / b + 2 * math.log(2 * b), 2 * math.log(2 * b)], rtol=1e-5
    )


def test_loss_averages_per_image_nats_over_the_batch(rng):
    x = rng.uniform(size=(4, 3, 3, 1)).astype(np.float32)
    p = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    per_image = negative_log_likelihood(x, p, "bernoulli").numpy()
    loss = ReconstructionLoss("bernoulli")(x, p)
    np.testing.assert_allclose(float(loss), per_image.mean(), rtol=1e-6)
    metric = ReconstructionMetric("bernoulli")
    metric.update_state(x, p)
    np.testing.assert_allclose(float(metric.result()), per_image.mean(),
                               rtol=1e-6)


def test_loss_and_metric_serialize():
    for obj in (ReconstructionLoss("laplace", 0.05),
                ReconstructionMetric("gaussian", 0.2)):
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(obj)
        )
        assert type(revived) is type(obj)
        assert (revived.likelihood, revived.scale) == (obj.likelihood,
                                                       obj.scale)


def test_unknown_likelihood_is_rejected():
    with pytest.raises(ValueError, match="Unknown likelihood 'poisson'"):
        ReconstructionLoss("poisson")


# Found by mutation testing (tools/mutation/losses.toml).

@pytest.mark.parametrize("likelihood", ["gaussian", "laplace"])
def test_calibrated_params_carry_their_log_scale_channel(likelihood, rng):
    """`scale=None`: the last channel holds log(scale); the result equals
    the fixed-scale likelihood at that scale (batch 5 != 3 channels)."""
    x = rng.uniform(size=(5, 4, 4, 3)).astype("float32")
    mean = rng.uniform(size=(5, 4, 4, 3)).astype("float32")
    scale = 0.07
    channel = np.full((5, 4, 4, 1), math.log(scale), "float32")
    params = np.concatenate([mean, channel], axis=-1)
    got = negative_log_likelihood(x, params, likelihood, scale=None)
    want = negative_log_likelihood(x, mean, likelihood, scale=scale)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    loss = ReconstructionLoss(likelihood, scale=None)(x, params)
    np.testing.assert_allclose(float(loss), float(np.mean(want)), rtol=1e-5)


def test_likelihood_names_from_json_work(rng):
    """Names read from a config file are equal, not identical, strings."""
    import json

    x = rng.uniform(size=(2, 3, 3, 1)).astype("float32")
    p = rng.normal(size=(2, 3, 3, 1)).astype("float32")
    for name in ("bernoulli", "gaussian", "laplace"):
        runtime = json.loads(json.dumps({"n": name}))["n"]
        runtime = "".join(list(runtime))  # a fresh, non-interned object
        np.testing.assert_array_equal(
            negative_log_likelihood(x, p, runtime, 0.5),
            negative_log_likelihood(x, p, name, 0.5))


def test_bernoulli_ignores_a_missing_scale(rng):
    x = rng.uniform(size=(2, 3, 3, 1)).astype("float32")
    logits = rng.normal(size=(2, 3, 3, 1)).astype("float32")
    np.testing.assert_array_equal(
        negative_log_likelihood(x, logits, "bernoulli", scale=None),
        negative_log_likelihood(x, logits, "bernoulli"))


def test_default_scale_is_one(rng):
    x = rng.uniform(size=(2, 3, 3, 1)).astype("float32")
    mean = rng.uniform(size=(2, 3, 3, 1)).astype("float32")
    np.testing.assert_array_equal(
        negative_log_likelihood(x, mean, "gaussian"),
        negative_log_likelihood(x, mean, "gaussian", scale=1.0))
    assert ReconstructionLoss("gaussian").scale == 1.0
    assert ReconstructionMetric("gaussian").scale == 1.0


@pytest.mark.parametrize("scale", [0, 0.0, -1.0, float("nan"), "1"])
def test_non_positive_scales_are_refused(scale):
    for cls in (ReconstructionLoss, ReconstructionMetric):
        with pytest.raises(ValueError, match="scale"):
            cls("gaussian", scale=scale)


def test_laplace_matches_hand_computed_values():
    x = np.array([[[[0.2]], [[0.9]]]], "float32")       # (1, 2, 1, 1)
    loc = np.array([[[[0.5]], [[0.4]]]], "float32")
    b = 0.25
    want = (0.3 / b + math.log(2 * b)) + (0.5 / b + math.log(2 * b))
    got = negative_log_likelihood(x, loc, "laplace", scale=b)
    np.testing.assert_allclose(got, [want], rtol=1e-6)


@pytest.mark.parametrize("name", ["aaa", "zzz"])
def test_unknown_likelihood_is_a_value_error_with_any_scale(name):
    x = np.zeros((1, 2, 2, 1), "float32")
    for scale, params in ((1.0, x), (None, np.zeros((1, 2, 2, 2), "float32"))):
        with pytest.raises(ValueError, match="Unknown likelihood"):
            negative_log_likelihood(x, params, name, scale=scale)


def test_focal_frequency_is_parseval_at_alpha_zero_and_focuses_at_one():
    """With a flat weight (alpha = 0) the orthonormal spectrum's squared
    error is the pixels' (Parseval); with alpha = 1 a fine checkerboard
    error keeps its full weight while a broad shift is down-weighted
    only where the spectrum is small."""
    from vae_tf.losses import focal_frequency

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(3, 8, 6, 2)).astype(np.float32)
    x_hat = rng.uniform(size=(3, 8, 6, 2)).astype(np.float32)
    flat = focal_frequency(x, x_hat, alpha=0.0).numpy()
    np.testing.assert_allclose(
        flat, ((x_hat - x) ** 2).sum(axis=(1, 2, 3)), rtol=1e-4)
    focal = focal_frequency(x, x_hat, alpha=1.0).numpy()
    assert np.all(focal < flat) and np.all(focal > 0)
    np.testing.assert_allclose(focal_frequency(x, x).numpy(), 0.0,
                               atol=1e-6)
    # A checkerboard error is two frequencies (DC and Nyquist) of equal
    # magnitude: both weigh the maximum, 1, so the focal distance is the
    # whole squared pixel error.
    checker = (np.indices((8, 6)).sum(axis=0) % 2).astype(np.float32)
    error = 0.1 * checker[None, :, :, None] * np.ones((1, 1, 1, 2))
    np.testing.assert_allclose(
        focal_frequency(np.zeros_like(error), error).numpy()[0],
        (error ** 2).sum(), rtol=1e-4)


def test_reconstruction_loss_adds_the_weighted_frequency_term_only():
    from vae_tf.losses import focal_frequency

    rng = np.random.default_rng(1)
    x = rng.uniform(size=(4, 8, 8, 3)).astype(np.float32)
    logits = rng.normal(size=(4, 8, 8, 3)).astype(np.float32)
    plain = ReconstructionLoss("bernoulli")
    weighted = ReconstructionLoss("bernoulli", frequency_weight=10.0)
    expected = (negative_log_likelihood(x, logits, "bernoulli").numpy()
                + 10.0 * focal_frequency(
                    x, 1.0 / (1.0 + np.exp(-logits))).numpy())
    np.testing.assert_allclose(float(weighted(x, logits)),
                               expected.mean(), rtol=1e-5)
    assert float(weighted(x, logits)) > float(plain(x, logits))
    copy = ReconstructionLoss.from_config(weighted.get_config())
    assert copy.frequency_weight == 10.0
    with pytest.raises(ValueError, match="frequency_weight=-1"):
        ReconstructionLoss("bernoulli", frequency_weight=-1)
