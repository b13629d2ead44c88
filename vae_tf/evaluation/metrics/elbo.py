"""The evidence lower bound (Kingma & Welling 2014, arXiv:1312.6114).

-ELBO(x) = E_q(z|x)[-log p(x|z)] + KL(q(z|x) || N(0, I)), in nats per
image: the reconstruction term is estimated with one posterior sample per
image (as in training), the KL term is analytic.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import tensorflow as tf

from vae_tf.distributions.gaussian import kl_per_dimension, reparametrize
from vae_tf.distributions.likelihoods import negative_log_likelihood


def encode_moments(encoder, images: np.ndarray, batch_size: int = 256,
                   conditions: Optional[dict] = None):
    """Posterior means and log-variances, each `(n, latent_dim)`; a
    conditional encoder also takes `conditions` (`{factor: (n, width)}`,
    `vae_tf.data.conditions.model_conditions`)."""
    inputs = images if conditions is None else {"image": images,
                                                **conditions}
    z_mean, z_log_var, _ = encoder.predict(
        inputs, batch_size=batch_size, verbose=0
    )
    return z_mean, z_log_var


def with_conditions(z, conditions: Optional[dict], rows: slice):
    """A decoder's input: `z`, or with `conditions`' `rows` beside it."""
    if conditions is None:
        return z
    return {"z": z, **{k: tf.constant(v[rows]) for k, v in
                       conditions.items()}}


def negative_elbo(
    encoder, param_decoder, images: np.ndarray, likelihood: str,
    scale: float = 1.0, batch_size: int = 256, seed: int = 0,
    conditions: Optional[dict] = None,
) -> dict[str, object]:
    """-ELBO and its parts, averaged over `images`.

    Args:
        encoder: image -> `[z_mean, z_log_var, z]` model.
        param_decoder: z -> likelihood parameters (logits for Bernoulli);
            the VAE's nested `decoder` model.
        images: float32 `(n, H, W, C)` in the likelihood's support.
        likelihood, scale: as in `VAEConfig`.
        seed: seeds the NumPy draws of z (default 0: the same number on
            every call).
        conditions: a conditional model's encoded conditions of the
            images' rows, `{factor: (n, width)}`.

    Returns:
        `{"neg_elbo", "reconstruction", "kl"}` in nats per image and
        `"kl_per_dim"`, a list of `latent_dim` mean KLs.
    """
    z_mean, z_log_var = encode_moments(encoder, images, batch_size,
                                       conditions)
    rng = np.random.default_rng(seed)
    recon = []
    for start in range(0, len(images), batch_size):
        mu = z_mean[start:start + batch_size]
        lv = z_log_var[start:start + batch_size]
        eps = rng.standard_normal(mu.shape).astype(np.float32)
        z = tf.constant(reparametrize(mu, lv, eps))
        params = param_decoder(with_conditions(
            z, conditions, slice(start, start + batch_size)), training=False)
        recon.append(negative_log_likelihood(
            images[start:start + batch_size], params, likelihood, scale
        ).numpy())
    recon = np.concatenate(recon)
    kl_dims = kl_per_dimension(z_mean, z_log_var).numpy()
    kl = kl_dims.sum(axis=1)
    return {
        "neg_elbo": float((recon + kl).mean()),
        "reconstruction": float(recon.mean()),
        "kl": float(kl.mean()),
        "kl_per_dim": [float(v) for v in kl_dims.mean(axis=0)],
    }
