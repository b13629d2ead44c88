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

from vae_tf.metrics import iwae_nll, negative_elbo

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
    assert result["reconstruction"] + result["kl"] == pytest.approx(
        result["neg_elbo"], rel=1e-6)


def test_iwae_defaults_to_1000_samples(exact_model):
    encoder, decoder = exact_model
    x = np.array([0.3, -1.0], np.float32).reshape(-1, 1, 1, 1)
    result = iwae_nll(encoder, decoder, x, "gaussian", scale=SIGMA)
    assert result["k"] == 1000
    np.testing.assert_allclose(result["per_image"], _neg_log_px(x.ravel()),
                               atol=1e-4)
