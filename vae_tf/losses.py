"""The reconstruction term as Keras objects: `ReconstructionLoss` (what
`compile` minimises) and `ReconstructionMetric` (what `fit` reports as
`reconstruction`), both in nats per image, averaged over the batch by
Keras. With `beta = 1` the VAE's `loss` is the negative ELBO (Kingma &
Welling 2014, arXiv:1312.6114). The likelihoods themselves are
`vae_tf.distributions.likelihoods`.
"""

from __future__ import annotations

from typing import Optional

import keras

from vae_tf.distributions.likelihoods import (check_likelihood,
                                              negative_log_likelihood)

__all__ = ["ReconstructionLoss", "ReconstructionMetric",
           "negative_log_likelihood"]


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
    """Negative log-likelihood of the images, nats per image, batch mean.

    Args: as `_LikelihoodTerm`.
    """

    def call(self, y_true, y_pred):
        return self.nll(y_true, y_pred)


@keras.saving.register_keras_serializable(package="vae_tf")
class ReconstructionMetric(_LikelihoodTerm, keras.metrics.Mean):
    """Running mean of the reconstruction term, reported as
    `reconstruction`.

    Args: as `_LikelihoodTerm`.
    """

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(self.nll(y_true, y_pred),
                                    sample_weight=sample_weight)
