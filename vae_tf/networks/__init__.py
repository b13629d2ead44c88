"""Encoder and decoder bodies, one module per architecture.

Each architecture module exposes two functions on symbolic Keras tensors:
`encoder_body(x, config) -> features` with `x` of shape
`(batch_size, height, width, channels)` and features `(batch_size, units)`,
and `decoder_body(z, config) -> params` with `z` of shape
`(batch_size, latent_dim)` and params shaped like the images.
"""

from vae_tf.networks import conv, mlp, resconv

ARCHITECTURES = {"conv": conv, "mlp": mlp, "resconv": resconv}
