"""-ELBO and IWAE on a linear-Gaussian model whose log p(x) is known.

z ~ N(0, 1), x | z ~ N(z, SIGMA^2): then p(x) = N(0, 1 + SIGMA^2) and the
posterior p(z|x) = N(x / (1 + SIGMA^2), SIGMA^2 / (1 + SIGMA^2)). With that
posterior as the encoder, every importance weight p(x|z) p(z) / q(z|x)
equals p(x), so the IWAE bound is exact for any k and any draw, and the
-ELBO's expectation is -log p(x). Any error in the reparametrized draw, the
densities or the batching moves the numbers off the closed form.
"""

import math

import keras
import numpy as np
import pytest

from vae_tf.evaluation.metrics import iwae_nll, negative_elbo

SIGMA = 0.5
MARGINAL_VAR = 1.0 + SIGMA**2
POSTERIOR_VAR = SIGMA**2 / MARGINAL_VAR


def _dense(units, kernel, bias):
    return keras.layers.Dense(
        units, kernel_initializer=keras.initializers.Constant(kernel),
        bias_initializer=keras.initializers.Constant(bias))


@pytest.fixture(scope="module")
def exact_model():
    x = keras.Input((1, 1, 1))
    flat = keras.layers.Flatten()(x)
    z_mean = _dense(1, 1.0 / MARGINAL_VAR, 0.0)(flat)
    z_log_var = _dense(1, 0.0, math.log(POSTERIOR_VAR))(flat)
    encoder = keras.Model(x, [z_mean, z_log_var, z_mean])
    z = keras.Input((1,))
    decoder = keras.Model(z, keras.layers.Reshape((1, 1, 1))(
        _dense(1, 1.0, 0.0)(z)))
    return encoder, decoder


def _neg_log_px(x):
    return 0.5 * (math.log(2 * math.pi * MARGINAL_VAR) + x**2 / MARGINAL_VAR)


def test_iwae_is_exact_with_the_true_posterior(exact_model):
    encoder, decoder = exact_model
    x = np.linspace(-2.5, 2.5, 11, dtype=np.float32)
    for k in (1, 7):
        result = iwae_nll(encoder, decoder, x.reshape(-1, 1, 1, 1),
                          "gaussian", scale=SIGMA, k=k, batch_size=4, seed=1)
        np.testing.assert_allclose(result["per_image"], _neg_log_px(x),
                                   atol=1e-4)


def test_elbo_averages_to_minus_log_px_with_the_true_posterior(exact_model):
    """Over many images (several batches), the one-sample -ELBO averages to
    -log p(x); its KL is the closed form of the known posterior."""
    encoder, decoder = exact_model
    x = np.random.default_rng(0).normal(
        0.0, math.sqrt(MARGINAL_VAR), 4000).astype(np.float32)
    result = negative_elbo(encoder, decoder, x.reshape(-1, 1, 1, 1),
                           "gaussian", scale=SIGMA, batch_size=64, seed=2)
    # Per image the estimate's std is ~1 nat: 4,000 give a ~0.02 error.
    assert result["neg_elbo"] == pytest.approx(_neg_log_px(x).mean(),
                                               abs=0.08)
    mu = x / MARGINAL_VAR
    kl = 0.5 * (POSTERIOR_VAR + mu**2 - 1.0 - math.log(POSTERIOR_VAR))
    assert result["kl"] == pytest.approx(kl.mean(), rel=1e-4)
    assert result["kl_per_dim"] == pytest.approx([kl.mean()], rel=1e-4)
    assert result["reconstruction"] + result["kl"] == pytest.approx(
        result["neg_elbo"], rel=1e-6)


def test_iwae_defaults_to_1000_samples(exact_model):
    encoder, decoder = exact_model
    x = np.array([0.3, -1.0], np.float32).reshape(-1, 1, 1, 1)
    result = iwae_nll(encoder, decoder, x, "gaussian", scale=SIGMA)
    assert result["k"] == 1000
    np.testing.assert_allclose(result["per_image"], _neg_log_px(x.ravel()),
                               atol=1e-4)


class _MaxRows(keras.layers.Layer):
    """Identity that records the largest batch it was called with."""

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(), initializer="zeros",
                                    trainable=False, name="rows")

    def call(self, z):
        rows = keras.ops.cast(keras.ops.shape(z)[0], "float32")
        self.rows.assign(keras.ops.maximum(self.rows, rows))
        return z


def test_iwae_decodes_max_decodes_images_at_a_time(exact_model):
    """k = 100 samples of 4 images with max_decodes = 40 must decode 10
    samples of each (40 rows) per call: not all 400 at once (memory), not
    one sample at a time (speed)."""
    encoder, decoder = exact_model
    z = keras.Input((1,))
    counter = _MaxRows()
    counting = keras.Model(z, decoder(counter(z)))
    x = np.linspace(-1.0, 1.0, 4, dtype=np.float32).reshape(-1, 1, 1, 1)
    iwae_nll(encoder, counting, x, "gaussian", scale=SIGMA, k=100,
             batch_size=4, max_decodes=40)
    assert float(counter.rows.numpy()) == 40
    # k not a multiple of the samples decoded at once (6 of 9, then 3).
    nine = iwae_nll(encoder, decoder, x, "gaussian", scale=SIGMA, k=9,
                    batch_size=1, max_decodes=6)
    np.testing.assert_allclose(nine["per_image"], _neg_log_px(x.ravel()),
                               atol=1e-4)
    # A max_decodes below the batch still decodes one sample at a time.
    counter = _MaxRows()
    counting = keras.Model(z, decoder(counter(z)))
    tiny = iwae_nll(encoder, counting, x, "gaussian", scale=SIGMA, k=3,
                    batch_size=4, max_decodes=2)
    assert float(counter.rows.numpy()) == 4  # one sample of the 4 images
    np.testing.assert_allclose(tiny["per_image"], _neg_log_px(x.ravel()),
                               atol=1e-4)


def test_progress_and_quiet_defaults(exact_model, capsys, monkeypatch):
    """`verbose=True` counts the images done after each batch, up to all of
    them; -ELBO prints nothing; both are the same number on every call by
    default (seed 0)."""
    encoder, decoder = exact_model
    counts = []
    update = keras.utils.Progbar.update

    def spy(self, current, *args, **kwargs):
        counts.append(current)
        return update(self, current, *args, **kwargs)

    monkeypatch.setattr(keras.utils.Progbar, "update", spy)
    x = np.linspace(-1.0, 1.0, 11, dtype=np.float32).reshape(-1, 1, 1, 1)
    iwae_nll(encoder, decoder, x, "gaussian", scale=SIGMA, k=2,
             batch_size=4, verbose=True)
    assert counts == [4, 8, 11]
    assert "11/11" in capsys.readouterr().out
    first = negative_elbo(encoder, decoder, x, "gaussian", scale=SIGMA)
    iwae_nll(encoder, decoder, x, "gaussian", scale=SIGMA, k=2)
    assert capsys.readouterr().out == ""  # both quiet by default
    assert first == negative_elbo(encoder, decoder, x, "gaussian",
                                  scale=SIGMA, seed=0)
    assert first != negative_elbo(encoder, decoder, x, "gaussian",
                                  scale=SIGMA, seed=1)
    # With a wrong scale q is no longer the posterior: the draws matter.
    bound = [iwae_nll(encoder, decoder, x, "gaussian", scale=1.0, k=2,
                      **seed)["iwae_nll"] for seed in ({}, {"seed": 0},
                                                       {"seed": 1})]
    assert bound[0] == bound[1] != bound[2]


def test_the_decoder_runs_in_inference_mode(exact_model):
    """A decoder with dropout (a user's, or a future network's) is
    evaluated without it: both bounds stay exact."""
    encoder, decoder = exact_model
    z = keras.Input((1,))
    dropping = keras.Model(z, decoder(keras.layers.Dropout(0.9, seed=0)(z)))
    x = np.linspace(-2.5, 2.5, 11, dtype=np.float32)
    iwae = iwae_nll(encoder, dropping, x.reshape(-1, 1, 1, 1), "gaussian",
                    scale=SIGMA, k=3)
    np.testing.assert_allclose(iwae["per_image"], _neg_log_px(x), atol=1e-4)
    images = np.linspace(-2.0, 2.0, 600, dtype=np.float32).reshape(-1, 1, 1, 1)
    np.testing.assert_allclose(
        negative_elbo(encoder, dropping, images, "gaussian", scale=SIGMA)
        ["neg_elbo"],
        negative_elbo(encoder, decoder, images, "gaussian", scale=SIGMA)
        ["neg_elbo"], rtol=1e-6)


def test_the_default_scale_is_one(exact_model):
    """`scale` defaults to 1.0: a unit standard deviation per pixel."""
    encoder, decoder = exact_model
    x = np.linspace(-1.0, 1.0, 5, dtype=np.float32).reshape(-1, 1, 1, 1)
    assert negative_elbo(encoder, decoder, x, "gaussian") == negative_elbo(
        encoder, decoder, x, "gaussian", scale=1.0)
    assert iwae_nll(encoder, decoder, x, "gaussian", k=2)["iwae_nll"] == \
        iwae_nll(encoder, decoder, x, "gaussian", k=2, scale=1.0)["iwae_nll"]
