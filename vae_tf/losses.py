"""The reconstruction term as Keras objects: `ReconstructionLoss` (what
`compile` minimises) and `ReconstructionMetric` (what `fit` reports as
`reconstruction`), both in nats per image, averaged over the batch by
Keras. The loss may add a focal frequency term (`focal_frequency`,
Jiang et al. 2021, arXiv:2012.12821) that the metric never includes.
With `beta = 1` the VAE's `loss` is the negative ELBO (Kingma &
Welling 2014, arXiv:1312.6114). The likelihoods themselves are
`vae_tf.distributions.likelihoods`.
"""

from __future__ import annotations

from typing import Optional

import keras

from vae_tf.distributions.likelihoods import (check_likelihood,
                                              negative_log_likelihood)

__all__ = ["ReconstructionLoss", "ReconstructionMetric",
           "focal_frequency", "negative_log_likelihood"]


def focal_frequency(x, x_hat, alpha: float = 1.0):
    """Focal frequency distance of `x_hat` from `x` (Jiang et al. 2021).

    Both are images `(batch, height, width, channels)` in [0, 1]. Each
    channel's 2-D spectrum (orthonormal DFT, so a flat weight would give
    the squared pixel error, by Parseval) is compared frequency by
    frequency; each squared difference is weighted by its own magnitude
    to the power `alpha`, normalised to [0, 1] per image and channel and
    held constant in the gradient, so the frequencies the decoder gets
    most wrong (fine detail such as eyes) weigh most.

    Returns:
        `(batch,)`: the weighted squared spectral error, summed over
        frequencies and channels (squared pixel units, per image).
    """
    import tensorflow as tf

    x = tf.cast(x, tf.float32)
    x_hat = tf.cast(x_hat, tf.float32)
    height, width = x.shape[1], x.shape[2]
    diff = tf.transpose(x_hat - x, [0, 3, 1, 2])  # channels first
    spectrum = tf.signal.fft2d(tf.complex(diff, tf.zeros_like(diff)))
    spectrum /= tf.cast(tf.sqrt(float(height * width)), tf.complex64)
    squared = tf.math.real(spectrum * tf.math.conj(spectrum))
    weight = tf.pow(tf.sqrt(squared) + 1e-12, alpha)
    weight /= tf.reduce_max(weight, axis=[2, 3], keepdims=True)
    weight = tf.stop_gradient(weight)
    return tf.reduce_sum(weight * squared, axis=[1, 2, 3])


def image_mean(params, likelihood: str, channels: int):
    """The decoder's mean image in [0, 1] from its parameters: the
    sigmoid of `bernoulli` logits, else the mean channels (a calibrated
    decoder's extra log-scale channel dropped)."""
    import tensorflow as tf

    if likelihood == "bernoulli":
        return tf.sigmoid(tf.cast(params, tf.float32))
    return params[..., :channels]


class _LikelihoodTerm:
    """What the loss and the metric share: the likelihood and its pixel
    scale (checked, kept in the config) and the per-image NLL.

    Args:
        likelihood: `bernoulli`, `gaussian` or `laplace`.
        scale: pixel scale of `gaussian` / `laplace`, or `None` when the
            predictions carry their log-scale (calibrated decoders).
    """

    def __init__(
        self, likelihood: str = "bernoulli", scale: Optional[float] = 1.0,
        name: str = "reconstruction", **kwargs,
    ):
        check_likelihood(likelihood, scale)
        super().__init__(name=name, **kwargs)
        self.likelihood = likelihood
        self.scale = None if scale is None else float(scale)

    def nll(self, y_true, y_pred):
        """Negative log-likelihood per image, nats, `(batch_size,)`."""
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
class ReconstructionLoss(_LikelihoodTerm, keras.losses.Loss):
    """Negative log-likelihood of the images, nats per image, batch mean,
    plus `frequency_weight` times `focal_frequency` of the mean image.

    Args: as `_LikelihoodTerm`; `frequency_weight` >= 0 (0: the NLL
    alone, so `loss` is the negative ELBO at beta = 1).
    """

    def __init__(self, likelihood: str = "bernoulli",
                 scale: Optional[float] = 1.0,
                 frequency_weight: float = 0.0, **kwargs):
        super().__init__(likelihood, scale, **kwargs)
        if not isinstance(frequency_weight, (int, float)) or \
                not frequency_weight >= 0:
            raise ValueError(
                "Expected `frequency_weight` to be a number >= 0. "
                f"Received: frequency_weight={frequency_weight!r}")
        self.frequency_weight = float(frequency_weight)

    def call(self, y_true, y_pred):
        nll = self.nll(y_true, y_pred)
        if not self.frequency_weight:
            return nll
        mean = image_mean(y_pred, self.likelihood, y_true.shape[-1])
        return nll + self.frequency_weight * focal_frequency(y_true, mean)

    def get_config(self):
        return {**super().get_config(),
                "frequency_weight": self.frequency_weight}


@keras.saving.register_keras_serializable(package="vae_tf")
class ReconstructionMetric(_LikelihoodTerm, keras.metrics.Mean):
    """Running mean of the reconstruction term, reported as
    `reconstruction`.

    Args: as `_LikelihoodTerm`.
    """

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(self.nll(y_true, y_pred),
                                    sample_weight=sample_weight)
