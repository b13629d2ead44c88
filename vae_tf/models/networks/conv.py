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
    return dense_head(h, config)


def dense_head(h, config):
    """Flatten, then the optional `dense_units` ReLU layer."""
    h = layers.Flatten(name="flatten")(h)
    if config.dense_units:
        h = layers.Dense(
            config.dense_units, activation="relu", name="enc_dense"
        )(h)
    return h


def project(z, config):
    """z -> the smallest feature map `(batch, H / 2^d, W / 2^d, widths[-1])`.

    Returns the map and its height.
    """
    height, width, _ = config.input_shape
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
    return layers.Reshape(start, name="dec_reshape")(h), start[0]


def output_layer(h, config, activation=None):
    """The last stride-2 `Conv2DTranspose` to the image's channels, in
    float32 whatever `config.precision` (the likelihood's parameters)."""
    return layers.Conv2DTranspose(
        config.input_shape[-1], 4, strides=2, padding="same",
        activation=activation, name="dec_out", dtype="float32",
    )(h)


def decoder_body(z, config, activation=None):
    """Shapes: `(batch_size, latent_dim)` -> `(batch_size, H, W, C)`.

    `activation` is applied to the output (e.g. `"sigmoid"` for means).
    """
    h, _ = project(z, config)
    for i, filters in enumerate(reversed(config.widths[:-1])):
        h = layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", activation="relu",
            name=f"dec_deconv_{i}",
        )(h)
    return output_layer(h, config, activation)
