"""The analytic KL of a diagonal Gaussian posterior from N(0, I).

KL(N(mu, sigma^2) || N(0, 1)) = 0.5 * (mu^2 + sigma^2 - log sigma^2 - 1)
per dimension (Kingma & Welling 2014, arXiv:1312.6114, appendix B),
computed with `tfp.distributions` (which uses `expm1` of the log-scale
difference for accuracy) and summed over the latent dimensions.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def kl_standard_normal(z_mean: tf.Tensor, z_log_var: tf.Tensor) -> tf.Tensor:
    """KL divergence of q(z|x) = N(z_mean, exp(z_log_var)) from N(0, I).

    Args:
        z_mean: posterior means, shape `(batch_size, latent_dim)`.
        z_log_var: posterior log-variances, same shape.

    Returns:
        Per-example KL in nats, summed over latent dimensions, shape
        `(batch_size,)`.
    """
    return tf.reduce_sum(kl_per_dimension(z_mean, z_log_var), axis=-1)


def kl_per_dimension(z_mean: tf.Tensor, z_log_var: tf.Tensor) -> tf.Tensor:
    """Elementwise KL in nats, shape `(batch_size, latent_dim)`."""
    z_mean = tf.convert_to_tensor(z_mean)
    z_log_var = tf.convert_to_tensor(z_log_var, dtype=z_mean.dtype)
    posterior = tfd.Normal(loc=z_mean, scale=tf.exp(0.5 * z_log_var))
    prior = tfd.Normal(
        loc=tf.zeros([], z_mean.dtype), scale=tf.ones([], z_mean.dtype)
    )
    return tfd.kl_divergence(posterior, prior)
