import numpy as np

from vae_tf import kl_standard_normal
from vae_tf.gaussian import kl_per_dimension


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
