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


# Default conv widths per number of stride-2 stages: one stage per
# doubling of the image side, so every size ends on a 4-8 pixel grid
# (32 px: 3 stages, 64 px: 4, 128 px: 5, 256 px: 6); 28 and 64 px keep the
# Keras example's and the default run's widths.
STAGE_WIDTHS = {1: (64,), 2: (32, 64), 3: (32, 64, 64), 4: (32, 64, 64, 64),
                5: (32, 64, 64, 128, 128), 6: (32, 64, 64, 128, 128, 256)}


def default_widths(
    architecture: str, input_shape: tuple[int, int, int]
) -> tuple[int, ...]:
    """Widths for `widths=None`.

    `mlp`: two hidden layers (512, 256). `conv`: as many stride-2 layers
    (at most 6) as keep height and width whole and >= 4 pixels, with the
    widths of `STAGE_WIDTHS`, e.g. 64x64 -> (32, 64, 64, 64), 28x28 ->
    (32, 64) as in the Keras example, 256x256 -> 6 stages to 4x4.
    """
    if architecture == "mlp":
        return (512, 256)
    height, width = input_shape[:2]
    depth = 0
    while (
        depth < max(STAGE_WIDTHS)
        and height % 2 ** (depth + 1) == 0
        and width % 2 ** (depth + 1) == 0
        and min(height, width) // 2 ** (depth + 1) >= 4
    ):
        depth += 1
    if depth == 0:
        raise ValueError(
            f"The conv architecture needs even image sides >= 8. Received: "
            f"input_shape={tuple(input_shape)}. Use architecture='mlp'."
        )
    return STAGE_WIDTHS[depth]


def check_conv_shape(architecture: str, input_shape, widths) -> None:
    """Raises `ValueError` when a conv architecture's `widths` halve an
    image of `input_shape` to a fraction: height and width must be
    multiples of 2 ** len(widths)."""
    if (
        architecture != "mlp"
        and input_shape is not None
        and widths is not None
    ):
        factor = 2 ** len(widths)
        height, width, _ = input_shape
        if height % factor or width % factor:
            raise ValueError(
                f"The conv architecture halves the image {len(widths)}"
                f" times, so height and width must be multiples of "
                f"{factor}. Received: input_shape={input_shape}, "
                f"widths={list(widths)}. Use fewer widths or "
                "architecture='mlp'."
            )
