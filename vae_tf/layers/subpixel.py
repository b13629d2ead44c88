"""`SubPixelConv2DTranspose`: a 4x4 stride-2 transposed convolution
computed as a 3x3 convolution and `depth_to_space` (serving only)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

# Conv2DTranspose(filters, KERNEL, strides=STRIDE, padding="same") is what
# this layer reproduces exactly.
KERNEL, STRIDE = 4, 2


def is_equivalent(layer) -> bool:
    """True if `layer` is a `Conv2DTranspose` this layer can replace: 4x4
    kernel, stride 2, "same" padding, no dilation, channels last."""
    return (isinstance(layer, layers.Conv2DTranspose)
            and tuple(layer.kernel_size) == (KERNEL, KERNEL)
            and tuple(layer.strides) == (STRIDE, STRIDE)
            and layer.padding == "same"
            and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last"
            and layer.output_padding is None)


def subpixel_weights(kernel: np.ndarray, bias: np.ndarray):
    """A `Conv2DTranspose` kernel `(4, 4, filters, C)` and bias
    `(filters,)` -> the 3x3 kernel `(3, 3, C, 4 * filters)` and bias
    `(4 * filters,)` of the same map.

    Output pixel `(2i + a, 2j + b)` of the transposed convolution ("same"
    padding pads 1 before) sums input pixels `(i + dy - 1, j + dx - 1)`
    times tap `(a + 3 - 2 dy, b + 3 - 2 dx)` where that tap exists; channel
    `(2a + b) * filters + f` of the 3x3 convolution holds phase `(a, b)`,
    which is where `depth_to_space(2)` puts it.
    """
    filters, channels = kernel.shape[2], kernel.shape[3]
    out = np.zeros((3, 3, channels, 2, 2, filters), kernel.dtype)
    for dy in range(3):
        for dx in range(3):
            for a in range(2):
                for b in range(2):
                    ky, kx = a + 3 - 2 * dy, b + 3 - 2 * dx
                    if 0 <= ky < KERNEL and 0 <= kx < KERNEL:
                        out[dy, dx, :, a, b, :] = kernel[ky, kx].T
    return (out.reshape(3, 3, channels, 4 * filters),
            np.tile(bias, 4).astype(bias.dtype))


@keras.saving.register_keras_serializable(package="vae_tf")
class SubPixelConv2DTranspose(layers.Layer):
    """`Conv2DTranspose(filters, 4, strides=2, padding="same")` as a 3x3
    `Conv2D` to `4 * filters` channels and `depth_to_space(2)` (sub-pixel
    convolution, Shi et al. 2016, arXiv:1609.05158): the same outputs to
    float rounding, from weights converted by `from_conv_transpose`.

    It does 2.25x the multiply-adds, but for an image's few output
    channels oneDNN's forward convolution runs it in 0.57x the time of its
    transposed one on CPU (32 -> 3 channels, batch 256;
    `vae_tf.export.serving_graph` swaps it into exported decoders,
    benchmarks/README.md). Not meant for training: its 3x3 kernel has more
    free weights than the layer it replaces.

    Args:
        filters: output channels.
        activation: applied to the output, as in `Conv2DTranspose`.

    Shapes: `(batch, H, W, C)` -> `(batch, 2H, 2W, filters)`.
    """

    def __init__(self, filters: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"Expected filters >= 1. Received: "
                             f"filters={filters!r}")
        self.filters = filters
        self.activation = keras.activations.get(activation)

    @classmethod
    def from_conv_transpose(cls, layer) -> "SubPixelConv2DTranspose":
        """A built copy of `layer` (see `is_equivalent`), same name and
        dtype policy, holding its weights converted."""
        if not is_equivalent(layer):
            raise ValueError(
                f"Layer {layer.name!r} is not a Conv2DTranspose with a 4x4 "
                "kernel, stride 2, 'same' padding, no dilation and "
                "channels_last data; it has no sub-pixel equivalent here.")
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        bias = (keras.ops.convert_to_numpy(layer.bias) if layer.use_bias
                else np.zeros(layer.filters, kernel.dtype))
        new = cls(layer.filters, activation=layer.activation,
                  name=layer.name, dtype=layer.dtype_policy)
        new.build((None, None, None, kernel.shape[3]))
        new.set_weights(list(subpixel_weights(kernel, bias)))
        return new

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel", shape=(3, 3, channels, 4 * self.filters),
            initializer="glorot_uniform")
        self.bias = self.add_weight(
            name="bias", shape=(4 * self.filters,), initializer="zeros")

    def call(self, inputs):
        phases = ops.conv(inputs, self.kernel, strides=1, padding="same")
        return self.activation(
            tf.nn.depth_to_space(phases + self.bias, STRIDE))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape

        def up(size):
            return None if size is None else size * STRIDE

        return (batch, up(height), up(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "activation": keras.activations.serialize(self.activation)}
