"""Encoder and decoder bodies, one module per architecture.

Each architecture module exposes two functions on symbolic Keras tensors:
`encoder_body(x, config) -> features` with `x` of shape
`(batch_size, height, width, channels)` and features `(batch_size, units)`,
and `decoder_body(z, config) -> params` with `z` of shape
`(batch_size, latent_dim)` and params shaped like the images.

The names are listed here and a module is imported only when a model is
built, so `VAEConfig` and the `vae-tf` parser read `ARCHITECTURES` without
loading Keras.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The modules of this package that are architectures, by name.
ARCHITECTURES = ("mlp", "conv", "resconv")


def architecture(name: str) -> ModuleType:
    """The module `vae_tf.models.networks.<name>` (`encoder_body`,
    `decoder_body`).

    Raises:
        ValueError: `name` is not one of `ARCHITECTURES`.
    """
    if name not in ARCHITECTURES:
        raise ValueError(
            f"Unknown architecture {name!r}. Choose one of: "
            f"{', '.join(ARCHITECTURES)}"
        )
    return importlib.import_module(f"{__name__}.{name}")
