"""The decoder graph that is exported: the trained decoder, with the
transposed convolutions that run faster as sub-pixel convolutions
swapped for them.

On CPU, oneDNN's transposed convolution (`Conv2DTranspose`, run as a
backward-data convolution) uses its vector lanes badly when it has few
output channels: the default faces decoder's last layer (32 -> 3
channels, 10% of the decoder's FLOPs) took 43% of its time at batch 256
on one thread (48.5 of 114 ms, TF1 step stats). `SubPixelConv2DTranspose`
computes the same map as a forward 3x3 convolution and `depth_to_space`,
in 0.57x the time of that layer at batch 256 and 0.81x at batch 1
(float32, one thread); layers with 32 or 64 output channels stay
transposed convolutions, where the sub-pixel form's 2.25x multiply-adds
take 1.4-1.8x as long at batch 256 (`python benchmarks/subpixel.py`,
benchmarks/README.md).

The swap changes the graph, not the function: `check_export` compares the
SavedModel's outputs with the original Keras decoder's (1e-5).
"""

from __future__ import annotations

import keras

from vae_tf.layers.subpixel import SubPixelConv2DTranspose, is_equivalent
from vae_tf.models import leaf_layers

# Swap transposed convolutions with at most this many output channels
# (an image's 1 or 3 channels).
MAX_SUBPIXEL_FILTERS = 4


def _swappable(layer) -> bool:
    return is_equivalent(layer) and layer.filters <= MAX_SUBPIXEL_FILTERS


def serving_decoder(decoder: keras.Model) -> keras.Model:
    """`decoder` for export: the same layers and weights (shared, not
    copied), except each swappable `Conv2DTranspose` (nested models
    included) replaced by a `SubPixelConv2DTranspose` holding its weights
    converted. Returns `decoder` itself when none is swappable."""
    if not any(_swappable(layer) for layer in leaf_layers(decoder)):
        return decoder

    def swap(layer):
        if _swappable(layer):
            return SubPixelConv2DTranspose.from_conv_transpose(layer)
        return layer

    return keras.models.clone_model(decoder, clone_function=swap,
                                    recursive=True)
