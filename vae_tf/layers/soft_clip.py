"""`SoftClip`: keeps the log-variance in a range where `exp` is safe."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="vae_tf")
class SoftClip(keras.layers.Layer):
    """y = limit * tanh(x / limit): smooth, identity near 0, |y| < limit.

    Applied to the encoder's `z_log_var` head, it bounds the posterior
    variance to (exp(-limit), exp(limit)), so `exp(0.5 * z_log_var)` in
    `Sampling` and the KL can neither overflow nor underflow in float32,
    whatever the weights do, while gradients never vanish abruptly as with
    a hard clip. With the default `limit=10`, sigma lies in
    (0.0067, 148): far outside anything a trained VAE uses.

    Args:
        limit: positive bound.

    Input shape / Output shape:
        Any; unchanged.
    """

    def __init__(self, limit: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(limit, (int, float)) or not limit > 0:
            raise ValueError(
                f"Expected `limit` to be a positive number. Received: "
                f"limit={limit!r}"
            )
        self.limit = float(limit)

    def call(self, inputs):
        return self.limit * ops.tanh(inputs / self.limit)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "limit": self.limit}
