"""Moving through the latent space: reconstruct images, interpolate
between two codes, traverse one dimension at a time."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from vae_tf._internal.pixels import as_float_images
from vae_tf.generate.interpolation import INTERPOLATIONS, lerp, slerp
from vae_tf.generate.sources import ModelSource, decoder_fn, encoder_fn


def reconstruct(encoder: ModelSource, decoder: ModelSource, x) -> np.ndarray:
    """Decodes the posterior means of `x`; same shape as `x`."""
    return decoder_fn(decoder)(encoder_fn(encoder)(as_float_images(x)))


def reconstruct_images(models, x, conditions: Optional[dict] = None
                       ) -> np.ndarray:
    """Reconstructions of images `x` `(n, H, W, C)` in `x`'s own range:
    uint8 in, uint8 out (0-255, rounded); float in [0, 1], float32 out.

    Deterministic: the decoder's output (Bernoulli probabilities, or
    Gaussian/Laplace means) at the posterior mean z_mean. This is what
    `vae.predict` is not: the VAE's output is the likelihood's
    parameters at a sampled z (logits for `bernoulli`; means for a fixed
    scale; means plus one channel holding the log-scale for a calibrated
    one), what the loss needs rather than a picture.

    Args:
        models: a `VAEModels` (`build_vae`, `load_run`, `train(...)
            .models`).
        conditions: a conditional model's encoded conditions of `x`'s
            rows (`vae_tf.data.conditions.model_conditions`).
    """
    original = np.asarray(x)
    images = as_float_images(original)
    if conditions is None:
        out = reconstruct(models.encoder, models.decoder, images)
    else:
        z = models.encoder.predict({"image": images, **conditions},
                                   verbose=0)[0]
        out = models.decoder.predict({"z": z, **conditions}, verbose=0)
    out = np.clip(np.asarray(out, np.float32), 0.0, 1.0)
    if original.dtype == np.uint8:
        return np.round(out * 255.0).astype(np.uint8)
    return out


def interpolate(
    encoder: ModelSource, decoder: ModelSource, x_a, x_b, steps: int = 8,
    method: str = "slerp",
):
    """Images along the latent path between the codes of `x_a` and `x_b`.

    Args:
        x_a, x_b: single images `(H, W, C)` or batches `(n, H, W, C)`.
        steps: points on the path, endpoints included (>= 2).
        method: one of `vae_tf.generate.interpolation.INTERPOLATIONS`.

    Returns:
        `(images, z)`: `(n, steps, H, W, C)` and `(n, steps, K)`.
    """
    if method not in INTERPOLATIONS:
        raise ValueError(
            f"Unknown method {method!r}. Choose one of: "
            f"{', '.join(INTERPOLATIONS)}"
        )
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"Expected steps >= 2. Received: steps={steps!r}")
    x_a, x_b = as_float_images(x_a), as_float_images(x_b)
    if x_a.ndim == 3:
        x_a, x_b = x_a[None], x_b[None]
    if x_a.shape != x_b.shape:
        raise ValueError(
            f"x_a and x_b must have the same shape: {x_a.shape} vs {x_b.shape}"
        )
    encode = encoder_fn(encoder)
    za, zb = encode(x_a), encode(x_b)
    t = np.linspace(0.0, 1.0, steps)
    path = lerp if method == "lerp" else slerp
    z = np.stack([path(a, b, t) for a, b in zip(za, zb)])
    images = decoder_fn(decoder)(z.reshape(-1, z.shape[-1]))
    return images.reshape(z.shape[:2] + images.shape[1:]), z


def traverse(
    decoder: ModelSource, z, dims: Sequence[int], values: Sequence[float],
    encoder: Optional[ModelSource] = None,
):
    """Decodes `z` with one latent dimension at a time set to each value.

    Args:
        z: a latent `(K,)`, or an image `(H, W, C)` with `encoder` given.
        dims: latent dimensions to move, one output row each.
        values: values to set, one output column each.

    Returns:
        images `(len(dims), len(values), H, W, C)`.
    """
    z = np.asarray(z)
    if z.ndim not in (1, 3):
        raise ValueError(
            "traverse takes one latent (K,) or one image (H, W, C). "
            f"Received an array of shape {z.shape}."
        )
    if z.ndim == 3:
        if encoder is None:
            raise ValueError("traverse got an image: pass its encoder too.")
        z = encoder_fn(encoder)(as_float_images(z)[None])[0]
    z = np.asarray(z, np.float32).reshape(-1)
    k = z.shape[0]
    bad = [d for d in dims if not 0 <= int(d) < k]
    if bad:
        raise ValueError(f"Latent dims {bad} out of range for latent_dim={k}.")
    grid = np.repeat(z[None, None], len(dims), 0).repeat(len(values), 1)
    for i, d in enumerate(dims):
        grid[i, :, int(d)] = values
    images = decoder_fn(decoder)(grid.reshape(-1, k))
    return images.reshape((len(dims), len(values)) + images.shape[1:])
