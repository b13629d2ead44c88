"""Importance-weighted bound on -log p(x) (Burda et al. 2016,
arXiv:1509.00519).

    -log p(x) <= -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x)

computed with log-sum-exp over the k log-weights. The bound tightens as k
grows and equals the (single-sample) -ELBO at k = 1. Samples are decoded in
chunks of about `max_decodes` images, so k = 1000 fits in memory.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import tensorflow as tf

from vae_tf.distributions.gaussian import log_density, reparametrize
from vae_tf.distributions.likelihoods import negative_log_likelihood
from vae_tf.evaluation.metrics.elbo import encode_moments
from vae_tf._internal.progress import Progress, Verbosity


def iwae_nll(
    encoder, param_decoder, images: np.ndarray, likelihood: str,
    scale: float = 1.0, k: int = 1000, batch_size: int = 16,
    max_decodes: int = 2048, seed: int = 0, verbose: Verbosity = False,
    conditions: Optional[dict] = None,
) -> dict[str, object]:
    """The k-sample IWAE bound on -log p(x), nats per image.

    Args:
        encoder, param_decoder, likelihood, scale: as in `negative_elbo`.
        images: float32 `(n, H, W, C)`.
        k: importance samples per image (>= 1; 1,000 by default, as in
            `vae-tf evaluate --k`).
        batch_size: images per step; `max_decodes // batch_size` samples
            of each are decoded at once.
        verbose: a progress bar over images (`vae_tf._internal.progress`).
        conditions: as in `negative_elbo`.

    Returns:
        `{"iwae_nll": float, "k": k, "num_images": n,
        "per_image": list[float]}`.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(
            f"Expected k >= 1 importance samples. Received: k={k!r}")
    z_mean, z_log_var = encode_moments(encoder, images, 256, conditions)
    latent_dim = z_mean.shape[1]
    chunk = max(1, max_decodes // batch_size)
    generator = tf.random.Generator.from_seed(seed)

    log_weights = _log_weights_fn(param_decoder, likelihood, scale,
                                  latent_dim)
    progress = Progress(
        len(images), f"IWAE bound, k={k}, {len(images)} images:", verbose,
        unit="image")
    per_image = []
    for start in range(0, len(images), batch_size):
        x = tf.constant(images[start:start + batch_size], tf.float32)
        mu = tf.constant(z_mean[start:start + batch_size])
        lv = tf.constant(z_log_var[start:start + batch_size])
        rows = {k: tf.constant(v[start:start + batch_size])
                for k, v in (conditions or {}).items()}
        parts, done = [], 0
        while done < k:
            s = min(chunk, k - done)
            eps = generator.normal((s, x.shape[0], latent_dim))
            parts.append(log_weights(x, mu, lv, eps, rows))
            done += s
        log_w = tf.concat(parts, axis=0)  # (k, b)
        bound = tf.reduce_logsumexp(log_w, axis=0) - math.log(k)
        per_image.extend((-bound).numpy().tolist())
        progress.advance(x.shape[0])
    return {
        "iwae_nll": float(np.mean(per_image)),
        "k": k,
        "num_images": len(images),
        "per_image": per_image,
    }


def _log_weights_fn(param_decoder, likelihood: str, scale: float,
                    latent_dim: int):
    """`(x, mu, log_var, eps, conditions) -> log p(x|z) + log p(z) -
    log q(z|x)` for the draws z of `eps`, shape `(s, b)` (a traced
    function); `conditions` `{factor: (b, width)}` or `{}`."""

    @tf.function(reduce_retracing=True)
    def log_weights(x, mu, log_var, eps, conditions):
        # eps: (s, b, K); x: (b, H, W, C). Rows of z are sample-major.
        z = reparametrize(mu[None], log_var[None], eps)
        s, b = tf.shape(eps)[0], tf.shape(eps)[1]
        flat = tf.reshape(z, (-1, latent_dim))
        if conditions:
            flat = {"z": flat, **{k: tf.tile(v, [s, 1])
                                  for k, v in conditions.items()}}
        params = param_decoder(flat, training=False)
        x_rep = tf.tile(
            x, tf.concat([[s], tf.ones(tf.rank(x) - 1, tf.int32)], 0))
        log_px = -tf.reshape(
            negative_log_likelihood(x_rep, params, likelihood, scale), (s, b)
        )
        log_qz = log_density(z, mu[None], log_var[None])
        return log_px + log_density(z) - log_qz

    return log_weights
