"""Reconstruction likelihoods -log p(x|z), in nats per image.

Each decoder output is the parameter of a per-pixel distribution:
`bernoulli` takes logits (numerically stable for any logit), `gaussian`
and `laplace` take the mean/location in pixel units with a fixed scale,
or (`scale=None`, calibrated decoders) the mean followed by one channel
holding log(scale), as `CalibratedScale` writes it.
The negative log-likelihood is summed over pixels (height, width,
channels) to nats per image. `laplace` is the L1 loss |x - x_hat| / scale
plus its normaliser log(2 * scale). `vae_tf.losses` wraps it for Keras.

TensorFlow is imported on the first call, so that `LIKELIHOODS` loads
without it (`VAEConfig` and the `vae-tf` parser read it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import tensorflow as tf

LIKELIHOODS = ("bernoulli", "gaussian", "laplace")


def negative_log_likelihood(
    x: tf.Tensor, params: tf.Tensor, likelihood: str,
    scale: Optional[float] = 1.0,
) -> tf.Tensor:
    """-log p(x | params) summed over all but the batch axis.

    Args:
        x: images, shape `(batch_size, height, width, channels)`.
        params: decoder outputs, same shape: logits for `bernoulli`,
            means/locations for `gaussian` and `laplace`.
        likelihood: one of `bernoulli`, `gaussian`, `laplace`.
        scale: per-pixel standard deviation (`gaussian`) or scale
            (`laplace`); unused by `bernoulli`. `None`: `params` has one
            channel more than `x`, the last holding log(scale).

    Returns:
        Nats per image, shape `(batch_size,)`.
    """
    import tensorflow as tf

    _check_name(likelihood)
    x = tf.convert_to_tensor(x)
    params = tf.convert_to_tensor(params)
    x = tf.cast(x, params.dtype)
    if likelihood != "bernoulli" and scale is None:
        channels = x.shape[-1]
        if params.shape[-1] == channels + 1:
            # One split, whose gradient is one concat: two strided slices
            # cost two full-size StridedSliceGrads per step (~9% of the
            # default run's busy time, benchmarks/README.md).
            params, log_scale = tf.split(params, [channels, 1], axis=-1)
        else:
            log_scale = params[..., channels:channels + 1]
            params = params[..., :channels]
    else:
        log_scale = math.log(scale) if likelihood != "bernoulli" else 0.0
    if likelihood == "bernoulli":
        per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=x, logits=params
        )
    elif likelihood == "gaussian":
        per_pixel = (
            0.5 * tf.square((x - params) * tf.exp(-log_scale))
            + log_scale + 0.5 * math.log(2.0 * math.pi)
        )
    else:  # laplace
        per_pixel = (
            tf.abs(x - params) * tf.exp(-log_scale) + log_scale
            + math.log(2.0)
        )
    rank = len(per_pixel.shape)
    return tf.reduce_sum(per_pixel, axis=list(range(1, rank)))


def check_likelihood(likelihood: str, scale: Optional[float]) -> None:
    """Raises ValueError unless `likelihood` is one of `LIKELIHOODS` and
    `scale` a positive number or None."""
    _check_name(likelihood)
    if scale is not None and (
        not isinstance(scale, (int, float)) or not scale > 0
    ):
        raise ValueError(
            "Expected `scale` to be a positive number, or None for a "
            "calibrated decoder. Received: "
            f"scale={scale!r}"
        )


def _check_name(likelihood: str) -> None:
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"Unknown likelihood {likelihood!r}. Choose one of: "
            f"{', '.join(LIKELIHOODS)}"
        )
