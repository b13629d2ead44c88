"""`CalibratedScale`: the pixel scale of a Gaussian or Laplace decoder, set
to its optimum from the batch error (Rybkin et al. 2021, "Simple and
Effective VAE Training with Calibrated Decoders", arXiv:2006.13202)."""

from __future__ import annotations

import keras
from keras import ops

KINDS = ("gaussian", "laplace")


@keras.saving.register_keras_serializable(package="vae_tf")
class CalibratedScale(keras.layers.Layer):
    """Appends the decoder's log-scale to its mean as one extra channel.

    A fixed pixel scale weighs reconstruction against KL by a hand-set
    constant. Here the scale is the maximum-likelihood one for the
    current reconstructions: in training, the root mean squared error
    (`gaussian`) or the mean absolute error (`laplace`) of the batch,
    over all pixels, with the gradient stopped (at the optimum the scale's
    own gradient is zero). A running mean of the batch optimum (of the
    variance for `gaussian`) is kept in the non-trainable variable
    `scale`; inference and evaluation use it, so validation and test
    numbers are the true negative ELBO of a decoder with that fixed scale.

    Args:
        kind: `"gaussian"` (scale = standard deviation) or `"laplace"`.
        momentum: weight of the old value in the running mean.
        min_scale: lower bound of the scale, pixel units (1e-3 ~ 1/4 of a
            uint8 step), so exact reconstructions cannot drive it to 0.
        initial_scale: the stored scale before any training step.

    Call arguments:
        inputs: `[x, mean]`, images and decoder means.
        training: use the batch optimum (and update the running mean).

    Input shape:
        Two tensors `(batch_size, H, W, C)`.

    Output shape:
        `(batch_size, H, W, C + 1)`: the mean, then log(scale) broadcast
        as the last channel (what `negative_log_likelihood(...,
        scale=None)` reads).
    """

    def __init__(self, kind: str = "gaussian", momentum: float = 0.99,
                 min_scale: float = 1e-3, initial_scale: float = 0.1,
                 **kwargs):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(
                f"Unknown kind {kind!r}. Choose one of: {', '.join(KINDS)}"
            )
        if not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(
                "Expected `momentum` in [0, 1). Received: "
                f"momentum={momentum!r}"
            )
        for name, value in (("min_scale", min_scale),
                            ("initial_scale", initial_scale)):
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(
                    f"Expected `{name}` to be a positive number. Received: "
                    f"{name}={value!r}"
                )
        self.kind = kind
        self.momentum = float(momentum)
        self.min_scale = float(min_scale)
        self.initial_scale = float(max(initial_scale, min_scale))
        self.scale = self.add_weight(
            name="scale", shape=(), trainable=False,
            aggregation="mean",  # replicas average their running means
            initializer=keras.initializers.Constant(self.initial_scale),
        )

    def batch_scale(self, x, mean):
        """The maximum-likelihood scale for this batch, a scalar."""
        error = ops.stop_gradient(x - mean)
        if self.kind == "gaussian":
            return ops.sqrt(ops.mean(ops.square(error)))
        return ops.mean(ops.abs(error))

    def call(self, inputs, training=False):
        x, mean = inputs
        x = ops.cast(x, mean.dtype)
        if training:
            batch = ops.maximum(self.batch_scale(x, mean), self.min_scale)
            m = self.momentum
            if self.kind == "gaussian":  # running mean of the variance
                running = ops.sqrt(
                    m * ops.square(self.scale) + (1 - m) * ops.square(batch)
                )
            else:
                running = m * self.scale + (1 - m) * batch
            self.scale.assign(running)
            scale = batch
        else:
            scale = ops.convert_to_tensor(self.scale)
        log_scale = ops.log(ops.cast(scale, mean.dtype))
        channel = ops.zeros_like(mean[..., :1]) + log_scale
        return ops.concatenate([mean, channel], axis=-1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape[1])
        if shape[-1] is not None:
            shape[-1] += 1
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "kind": self.kind,
            "momentum": self.momentum,
            "min_scale": self.min_scale,
            "initial_scale": self.initial_scale,
        }
