"""Shared plumbing of the procedural data sets (`faces`, `shapes`).

Each set samples named per-image factors, then renders them in chunks of
images with vectorised NumPy; this module holds the argument checks and
the chunk loop they share.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from vae_tf._internal.progress import Progress


def check_count(n) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(
            f"Expected `n` to be a positive integer. Received: n={n!r}"
        )


def render_in_chunks(
    factors: dict[str, np.ndarray],
    required: Sequence[str],
    render_chunk: Callable[[dict[str, np.ndarray], int], np.ndarray],
    image_size: int,
    channels: int,
    chunk: int,
    progress: Optional[Progress] = None,
) -> np.ndarray:
    """Renders `(n, S, S, channels)` uint8 images, `chunk` images at a time.

    `render_chunk(part, S)` gets the factor arrays of up to `chunk` images
    and returns their uint8 pixels, `(m, S, S, channels)` or `(m, S, S)`.
    Small chunks keep the temporaries in cache, which is what makes
    10,000 64x64 images take seconds. `progress` advances by each chunk's
    images.
    """
    missing = [name for name in required if name not in factors]
    if missing:
        raise ValueError(f"Missing factors: {missing}")
    if not isinstance(image_size, int) or image_size < 16:
        raise ValueError(
            "Expected `image_size` to be an integer >= 16. Received: "
            f"image_size={image_size!r}"
        )
    n = len(factors[required[0]])
    out = np.empty((n, image_size, image_size, channels), np.uint8)
    for start in range(0, n, chunk):
        part = {
            k: np.asarray(v)[start:start + chunk] for k, v in factors.items()
        }
        pixels = render_chunk(part, image_size)
        out[start:start + chunk] = pixels.reshape(
            (-1, image_size, image_size, channels)
        )
        if progress is not None:
            progress.advance(len(pixels))
    return out
