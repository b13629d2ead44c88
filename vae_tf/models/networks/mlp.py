"""Fully connected encoder/decoder bodies (`architecture="mlp"`)."""

from __future__ import annotations

import math

from keras import layers


def encoder_body(x, config):
    """Flatten, then one ReLU `Dense` per entry of `config.widths`.

    Shapes: `(batch_size, height, width, channels)` ->
    `(batch_size, widths[-1])`.
    """
    h = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(config.widths):
        h = layers.Dense(units, activation="relu", name=f"enc_dense_{i}")(h)
    return h


def decoder_body(z, config, activation=None):
    """Mirrored ReLU `Dense` stack, then a linear layer to image shape.

    Shapes: `(batch_size, latent_dim)` -> `config.input_shape`.
    `activation` is applied to the output (e.g. `"sigmoid"` for means).
    """
    h = z
    for i, units in enumerate(reversed(config.widths)):
        h = layers.Dense(units, activation="relu", name=f"dec_dense_{i}")(h)
    # The likelihood's parameters in float32 whatever config.precision.
    h = layers.Dense(
        math.prod(config.input_shape), activation=activation, name="dec_out",
        dtype="float32",
    )(h)
    return layers.Reshape(tuple(config.input_shape), name="dec_image",
                          dtype="float32")(h)
