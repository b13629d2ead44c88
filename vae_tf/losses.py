"""Reconstruction likelihoods -log p(x|z), in nats per image.

Each decoder output is the parameter of a per-pixel distribution:
`bernoulli` takes logits (numerically stable for any logit), `gaussian`
and `laplace` take the mean/location in pixel units with a fixed scale,
or (`scale=None`, calibrated decoders) the mean followed by one channel
holding log(scale), as `CalibratedScale` writes it.
The negative log-likelihood is summed over pixels (height, width,
channels) to nats per image; Keras then averages over the batch. With
`beta = 1` the VAE's `loss` is the negative ELBO (Kingma & Welling 2014,
arXiv:1312.6114). `laplace` is the L1 loss |x - x_hat| / scale plus its
normaliser log(2 * scale).
"""

from __future__ import annotations

import math
from typing import Optional

import keras
import tensorflow as tf

from vae_tf.config import LIKELIHOODS


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
    x = tf.convert_to_tensor(x)
    params = tf.convert_to_tensor(params)
    x = tf.cast(x, params.dtype)
    if likelihood != "bernoulli" and scale is None:
        channels = x.shape[-1]
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
    elif likelihood == "laplace":
        per_pixel = (
            tf.abs(x - params) * tf.exp(-log_scale) + log_scale
            + math.log(2.0)
        )
    else:
        raise ValueError(
            f"Unknown likelihood {likelihood!r}. Choose one of: "
            f"{', '.join(LIKELIHOODS)}"
        )
    rank = len(per_pixel.shape)
    return tf.reduce_sum(per_pixel, axis=list(range(1, rank)))


def _check(likelihood: str, scale: Optional[float]) -> None:
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"Unknown likelihood {likelihood!r}. Choose one of: "
            f"{', '.join(LIKELIHOODS)}"
        )
    if scale is not None and (
        not isinstance(scale, (int, float)) or not scale > 0
    ):
        raise ValueError(
            "Expected `scale` to be a positive number, or None for a "
            "calibrated decoder. Received: "
            f"scale={scale!r}"
        )


@keras.saving.register_keras_serializable(package="vae_tf")
class ReconstructionLoss(keras.losses.Loss):
    """Negative log-likelihood of the images, nats per image, batch mean.

    Args:
        likelihood: `bernoulli`, `gaussian` or `laplace`.
        scale: pixel scale of `gaussian` / `laplace`, or `None` when the
            predictions carry their log-scale (calibrated decoders).
    """

    def __init__(
        self, likelihood: str = "bernoulli", scale: Optional[float] = 1.0,
        name: str = "reconstruction", **kwargs,
    ):
        _check(likelihood, scale)
        super().__init__(name=name, **kwargs)
        self.likelihood = likelihood
        self.scale = None if scale is None else float(scale)

    def call(self, y_true, y_pred):
        return negative_log_likelihood(
            y_true, y_pred, self.likelihood, self.scale
        )

    def get_config(self):
        return {
            **super().get_config(),
            "likelihood": self.likelihood,
            "scale": self.scale,
        }


@keras.saving.register_keras_serializable(package="vae_tf")
class ReconstructionMetric(keras.metrics.Mean):
    """Running mean of the reconstruction term, reported as `reconstruction`.

    Args:
        likelihood: `bernoulli`, `gaussian` or `laplace`.
        scale: pixel scale of `gaussian` / `laplace`, or `None` when the
            predictions carry their log-scale (calibrated decoders).
    """

    def __init__(
        self, likelihood: str = "bernoulli", scale: Optional[float] = 1.0,
        name: str = "reconstruction", **kwargs,
    ):
        _check(likelihood, scale)
        super().__init__(name=name, **kwargs)
        self.likelihood = likelihood
        self.scale = None if scale is None else float(scale)

    def update_state(self, y_true, y_pred, sample_weight=None):
        nll = negative_log_likelihood(
            y_true, y_pred, self.likelihood, self.scale
        )
        return super().update_state(nll, sample_weight=sample_weight)

    def get_config(self):
        return {
            **super().get_config(),
            "likelihood": self.likelihood,
            "scale": self.scale,
        }
