"""Convolutional encoder/decoder bodies (`architecture="conv"`).

The encoder halves the resolution with one 4x4 stride-2 `Conv2D` per entry
of `config.widths`; the decoder mirrors it with `Conv2DTranspose` layers,
as in the beta-VAE of Burgess et al. 2018 (arXiv:1804.03599), smaller.
"""

from __future__ import annotations

from keras import layers


def encoder_body(x, config):
    """Shapes: `(batch_size, H, W, C)` -> `(batch_size, units)`."""
    h = x
    for i, filters in enumerate(config.widths):
        h = layers.Conv2D(
            filters, 4, strides=2, padding="same", activation="relu",
            name=f"enc_conv_{i}",
        )(h)
    h = layers.Flatten(name="flatten")(h)
    if config.dense_units:
        h = layers.Dense(
            config.dense_units, activation="relu", name="enc_dense"
        )(h)
    return h


def decoder_body(z, config, activation=None):
    """Shapes: `(batch_size, latent_dim)` -> `(batch_size, H, W, C)`.

    `activation` is applied to the output (e.g. `"sigmoid"` for means).
    """
    height, width, channels = config.input_shape
    factor = 2 ** len(config.widths)
    start = (height // factor, width // factor, config.widths[-1])
    h = z
    if config.dense_units:
        h = layers.Dense(
            config.dense_units, activation="relu", name="dec_dense"
        )(h)
    h = layers.Dense(
        start[0] * start[1] * start[2], activation="relu", name="dec_project"
    )(h)
    h = layers.Reshape(start, name="dec_reshape")(h)
    for i, filters in enumerate(reversed(config.widths[:-1])):
        h = layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", activation="relu",
            name=f"dec_deconv_{i}",
        )(h)
    return layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation=activation,
        name="dec_out",
    )(h)
