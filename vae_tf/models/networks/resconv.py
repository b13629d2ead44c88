"""Residual convolutional bodies (`architecture="resconv"`).

As `conv` (one 4x4 stride-2 convolution per entry of `config.widths`,
mirrored by `Conv2DTranspose` in the decoder), plus a residual block
(two 3x3 convolutions added back to their input, He et al. 2016,
arXiv:1512.03385) after each resampling step at a resolution of at most
`RESIDUAL_MAX_SIDE` pixels, where they are cheap. The blocks give the
decoder depth to draw small, sharp parts (eyes, glasses frames) without
widening the expensive full-resolution layers.
"""

from __future__ import annotations

from keras import layers

from vae_tf.models.networks import conv

RESIDUAL_MAX_SIDE = 16


def residual_block(h, filters: int, name: str):
    """`h + conv3x3(relu(conv3x3(h)))`, then ReLU; shape unchanged."""
    r = layers.Conv2D(filters, 3, padding="same", activation="relu",
                      name=f"{name}_a")(h)
    r = layers.Conv2D(filters, 3, padding="same", name=f"{name}_b")(r)
    h = layers.Add(name=f"{name}_add")([h, r])
    return layers.Activation("relu", name=f"{name}_relu")(h)


def encoder_body(x, config):
    """Shapes: `(batch_size, H, W, C)` -> `(batch_size, units)`."""
    h, side = x, min(config.input_shape[:2])
    for i, filters in enumerate(config.widths):
        h = layers.Conv2D(
            filters, 4, strides=2, padding="same", activation="relu",
            name=f"enc_conv_{i}",
        )(h)
        side //= 2
        if side <= RESIDUAL_MAX_SIDE:
            h = residual_block(h, filters, f"enc_res_{i}")
    return conv.dense_head(h, config)


def decoder_body(z, config, activation=None):
    """Shapes: `(batch_size, latent_dim)` -> `(batch_size, H, W, C)`."""
    h, side = conv.project(z, config)
    h = residual_block(h, config.widths[-1], "dec_res_in")
    for i, filters in enumerate(reversed(config.widths[:-1])):
        h = layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", activation="relu",
            name=f"dec_deconv_{i}",
        )(h)
        side *= 2
        if side <= RESIDUAL_MAX_SIDE:
            h = residual_block(h, filters, f"dec_res_{i}")
    return conv.output_layer(h, config, activation)
