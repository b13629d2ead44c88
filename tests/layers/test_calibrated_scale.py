import json
import math

import keras
import numpy as np
import pytest

from vae_tf import VAEConfig, train
from vae_tf.data import DataSet, Split
from vae_tf.layers import CalibratedScale
from vae_tf.losses import negative_log_likelihood
from vae_tf.models import likelihood_scale


def test_basics(check_layer):
    x = np.zeros((2, 4, 4, 3), np.float32)
    layer, out = check_layer(
        CalibratedScale, {"kind": "laplace", "momentum": 0.9}, [x, x],
        [(2, 4, 4, 4)], expected_num_non_trainable_weights=1,
    )
    with pytest.raises(ValueError, match="Unknown kind"):
        CalibratedScale("poisson")
    for bad in (1.0, 1.5, -0.1, "0.9"):
        with pytest.raises(ValueError, match="momentum"):
            CalibratedScale(momentum=bad)
    assert CalibratedScale(momentum=0).momentum == 0.0  # batch scale only
    for name in ("min_scale", "initial_scale"):
        for bad in (0, -1.0, None):
            with pytest.raises(ValueError, match=name):
                CalibratedScale(**{name: bad})


@pytest.mark.parametrize("kind", ["gaussian", "laplace"])
def test_running_scale_update_rule(kind):
    """Bug: the running means swapped between kinds. Gaussian averages the
    variance (the ML scale of pooled batches), Laplace the scale itself."""
    # The kind as a config read from JSON holds it: a fresh string.
    kind = json.loads(json.dumps(kind))
    # momentum < 0.5: above it, 1 % m happens to equal 1 - m.
    layer = CalibratedScale(kind, momentum=0.3, initial_scale=0.2)
    x = np.zeros((1, 2, 2, 1), np.float32)
    error = np.full((1, 2, 2, 1), 0.6, np.float32)  # batch scale 0.6 both
    out = layer([x, error], training=True).numpy()
    expected = {"gaussian": np.sqrt(0.3 * 0.2 ** 2 + 0.7 * 0.6 ** 2),
                "laplace": 0.3 * 0.2 + 0.7 * 0.6}[kind]
    assert float(layer.scale.numpy()) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(out[..., 1], np.log(0.6), rtol=1e-6)
    # The batch scale itself: RMS error (Gaussian) vs mean |error|.
    error = np.array([0.0, 0.0, 0.0, 0.8], np.float32).reshape(1, 2, 2, 1)
    out = layer([x, error], training=True).numpy()
    batch = {"gaussian": 0.4, "laplace": 0.2}[kind]
    np.testing.assert_allclose(out[..., 1], np.log(batch), rtol=1e-6)


@pytest.mark.parametrize("kind, true_scale",
                         [("gaussian", 0.07), ("laplace", 0.04)])
def test_the_scale_converges_to_the_noise_level(kind, true_scale):
    rng = np.random.default_rng(0)
    layer = CalibratedScale(kind, momentum=0.9)
    mean = rng.uniform(0.2, 0.8, (64, 8, 8, 3)).astype(np.float32)
    for _ in range(150):
        noise = (rng.normal(0, true_scale, mean.shape) if kind == "gaussian"
                 else rng.laplace(0, true_scale, mean.shape))
        out = keras.ops.convert_to_numpy(
            layer([mean + noise.astype(np.float32), mean], training=True)
        )
    # Training output: the batch optimum in the last channel.
    batch = (np.sqrt(np.mean(noise**2)) if kind == "gaussian"
             else np.mean(np.abs(noise)))
    np.testing.assert_allclose(np.exp(out[..., 3]), batch, rtol=1e-4)
    np.testing.assert_array_equal(out[..., :3], mean)
    stored = float(keras.ops.convert_to_numpy(layer.scale))
    assert stored == pytest.approx(true_scale, rel=0.02)
    # Inference uses the stored scale, whatever the batch error.
    out = keras.ops.convert_to_numpy(layer([mean + 0.5, mean], training=False))
    np.testing.assert_allclose(np.exp(out[..., 3]), stored, rtol=1e-5)


def test_nll_with_a_scale_channel_equals_the_fixed_scale_nll():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(3, 4, 4, 2)).astype(np.float32)
    mean = rng.uniform(size=x.shape).astype(np.float32)
    for likelihood, scale in (("gaussian", 0.1), ("laplace", 0.3)):
        params = np.concatenate(
            [mean, np.full(x.shape[:3] + (1,), math.log(scale), np.float32)], -1
        )
        np.testing.assert_allclose(
            negative_log_likelihood(x, params, likelihood, None).numpy(),
            negative_log_likelihood(x, mean, likelihood, scale).numpy(),
            rtol=1e-5,
        )


def _noisy_templates(n, seed, noise):
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0.3, 0.7, (4, 16, 16, 1))
    x = templates[rng.integers(0, 4, n)] + rng.normal(0, noise, (n, 16, 16, 1))
    return x.astype(np.float32)


def test_a_calibrated_vae_learns_the_true_noise_level():
    # Four templates plus pixel noise of std 0.05: the best decoder draws
    # the template, and the calibrated scale should find the noise level.
    data = DataSet("noisy", *(Split(_noisy_templates(n, s, 0.05))
                              for s, n in ((0, 2048), (1, 256), (2, 256))))
    config = VAEConfig(architecture="mlp", widths=(64,), latent_dim=2,
                       epochs=15, batch_size=64, learning_rate=3e-3,
                       sampler="prior", seed=0)
    result = train(config, data=data, verbose=0)
    assert likelihood_scale(result.models.vae, result.config) == pytest.approx(
        0.05, rel=0.15
    )
    # A fixed-scale model reports its own scale.
    fixed = VAEConfig(likelihood_scale=0.2)
    assert likelihood_scale(result.models.vae.get_layer("encoder"),
                            fixed) == 0.2


def test_output_shape_adds_one_channel():
    """Bug: the declared output shape off by a channel (or on the wrong
    axis), which layers built on it from shapes alone would inherit."""
    layer = CalibratedScale()
    assert layer.compute_output_shape(
        [(None, 8, 6, 3), (None, 8, 6, 3)]) == (None, 8, 6, 4)
    assert layer.compute_output_shape(
        [(2, 8, 6, 1), (2, 8, 6, 1)]) == (2, 8, 6, 2)
    assert layer.compute_output_shape(
        [(None, 8, 6, None), (None, 8, 6, None)]) == (None, 8, 6, None)


def test_inference_uses_the_stored_scale_and_leaves_it():
    """Bug: calling the layer without `training` (evaluation, `predict`)
    updating the running scale and using the batch's own."""
    layer = CalibratedScale(momentum=0.5, initial_scale=0.2)
    x = np.zeros((1, 2, 2, 1), np.float32)
    out = layer([x, np.full_like(x, 0.6)]).numpy()
    assert float(layer.scale.numpy()) == pytest.approx(0.2)
    np.testing.assert_allclose(out[..., 1], np.log(0.2), rtol=1e-6)
