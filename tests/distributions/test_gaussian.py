import numpy as np

from vae_tf import kl_standard_normal
from vae_tf.distributions.gaussian import (kl_per_dimension, log_density,
                                           reparametrize)


def test_kl_shape_and_closed_form(rng):
    mu = rng.normal(size=(64, 7)).astype(np.float32)
    log_var = rng.normal(scale=1.5, size=(64, 7)).astype(np.float32)
    kl = kl_standard_normal(mu, log_var).numpy()
    assert kl.shape == (64,)
    sigma2 = np.exp(log_var.astype(np.float64))
    closed = 0.5 * np.sum(mu**2 + sigma2 - np.log(sigma2) - 1.0, axis=-1)
    np.testing.assert_allclose(kl, closed, rtol=1e-5, atol=1e-5)
    assert kl_per_dimension(mu, log_var).shape == (64, 7)


def test_kl_is_zero_at_the_prior():
    zeros = np.zeros((3, 4), np.float32)
    np.testing.assert_allclose(kl_standard_normal(zeros, zeros), 0.0, atol=1e-7)


def test_kl_matches_monte_carlo_estimate(rng):
    mu = np.array([[0.7, -1.2]], np.float32)
    log_var = np.array([[-0.4, 0.6]], np.float32)
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((100_000, 2))
    log_q = -0.5 * (((z - mu) / sigma) ** 2 + np.log(2 * np.pi) + log_var)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    mc = np.mean(np.sum(log_q - log_p, axis=-1))
    np.testing.assert_allclose(
        kl_standard_normal(mu, log_var).numpy()[0], mc, rtol=1e-2
    )


def test_reparametrize_scales_and_shifts_the_noise(rng):
    mu = rng.normal(size=(5, 3)).astype(np.float32)
    log_var = rng.normal(size=(5, 3)).astype(np.float32)
    eps = rng.standard_normal((4, 5, 3)).astype(np.float32)  # sample axis
    z = np.asarray(reparametrize(mu[None], log_var[None], eps))
    assert z.shape == (4, 5, 3)
    np.testing.assert_allclose(z, mu + np.exp(0.5 * log_var) * eps,
                               rtol=1e-6, atol=1e-6)


def test_log_density_is_the_diagonal_gaussian_in_nats(rng):
    z = rng.normal(size=(6, 4))
    mu = rng.normal(size=(6, 4))
    log_var = rng.normal(size=(6, 4))
    closed = -0.5 * np.sum(
        (z - mu) ** 2 / np.exp(log_var) + np.log(2 * np.pi) + log_var, axis=-1
    )
    got = log_density(z.astype(np.float32), mu.astype(np.float32),
                      log_var.astype(np.float32)).numpy()
    assert got.shape == (6,)
    np.testing.assert_allclose(got, closed, rtol=1e-5)
    prior = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1)
    np.testing.assert_allclose(log_density(z.astype(np.float32)).numpy(),
                               prior, rtol=1e-5)
    # A leading sample axis (IWAE's (k, batch, latent) draws) sums over the
    # latent axis only.
    draws = rng.normal(size=(3, 6, 4)).astype(np.float32)
    got = log_density(draws, mu.astype(np.float32)[None],
                      log_var.astype(np.float32)[None]).numpy()
    assert got.shape == (3, 6)
    np.testing.assert_allclose(
        got, -0.5 * np.sum((draws - mu) ** 2 / np.exp(log_var)
                           + np.log(2 * np.pi) + log_var, axis=-1),
        rtol=1e-5)
