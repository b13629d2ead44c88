"""The diagonal Gaussian posterior q(z|x) = N(mu, sigma^2), in one place:
its reparametrized draw, its log-density and its KL from the N(0, I) prior.

KL(N(mu, sigma^2) || N(0, 1)) = 0.5 * (mu^2 + sigma^2 - log sigma^2 - 1)
per dimension (Kingma & Welling 2014, arXiv:1312.6114, appendix B),
computed with `tfp.distributions` (which uses `expm1` of the log-scale
difference for accuracy) and summed over the latent dimensions. The
`Sampling` layer, the KL layer and the ELBO/IWAE metrics all use these.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

tfd = tfp.distributions


def reparametrize(z_mean, z_log_var, eps):
    """z = z_mean + exp(0.5 * z_log_var) * eps: a draw of q(z|x) that
    gradients flow through (eps ~ N(0, I) drawn by the caller).

    Any shapes that broadcast, e.g. `(batch_size, latent_dim)`, or a
    leading sample axis on `eps`; `keras.ops`, so tensors or arrays.
    """
    return z_mean + ops.exp(0.5 * z_log_var) * eps


def log_density(z, z_mean=None, z_log_var=None) -> tf.Tensor:
    """log N(z; z_mean, exp(z_log_var)) in nats, summed over the last
    (latent) axis: shape `z.shape[:-1]`. Without `z_mean`/`z_log_var`, the
    N(0, I) prior's. Arguments broadcast against `z`."""
    z = tf.convert_to_tensor(z)
    if z_mean is None:
        dist = tfd.Normal(loc=tf.zeros([], z.dtype), scale=tf.ones([], z.dtype))
    else:
        z_log_var = tf.convert_to_tensor(z_log_var, dtype=z.dtype)
        dist = tfd.Normal(loc=tf.convert_to_tensor(z_mean, dtype=z.dtype),
                          scale=tf.exp(0.5 * z_log_var))
    return tf.reduce_sum(dist.log_prob(z), axis=-1)


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
