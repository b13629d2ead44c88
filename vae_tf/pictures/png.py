"""Arrays to PNG files: image grids and rows, written atomically.

PNGs are encoded with the standard library (`zlib`), so writing one needs
NumPy only, never TensorFlow or Keras (`serving/client.py` uses this
module without them).
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from vae_tf._internal import io_utils
from vae_tf._internal.pixels import as_uint8_images as to_uint8

_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # grey, grey+alpha, RGB, RGBA


def image_grid(images: np.ndarray, rows: int, pad: int = 2) -> np.ndarray:
    """Tiles `(n, H, W, C)` images into a `(rows, ceil(n/rows))` grid.

    Returns:
        uint8 array of shape `(rows*(H+pad)+pad, cols*(W+pad)+pad, C)` with
        white padding; RGB if `C` is 1 or 3.
    """
    images = to_uint8(images)
    if images.ndim != 4:
        raise ValueError(
            f"Expected images of shape (n, H, W, C). Received: {images.shape}"
        )
    n, h, w, c = images.shape
    cols = -(-n // rows)
    grid = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, np.uint8
    )
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top:top + h, left:left + w] = images[i]
    return grid


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of an `(H, W, C)` image."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def encode_png(image: np.ndarray) -> bytes:
    """An `(H, W, C)` uint8 image (C = 1, 2, 3 or 4) as PNG bytes: 8 bits
    per channel, no filtering, zlib level 6."""
    image = np.ascontiguousarray(image, np.uint8)
    h, w, c = image.shape
    if c not in _PNG_COLOR_TYPES or h == 0 or w == 0:
        raise ValueError(
            "Expected a non-empty (H, W, C) image with C in 1..4. Received: "
            f"{image.shape}")

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", crc))

    rows = np.concatenate(  # each scanline starts with filter type 0
        [np.zeros((h, 1), np.uint8), image.reshape(h, w * c)], axis=1)
    header = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOR_TYPES[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Writes an `(H, W, C)` uint8 or [0, 1] float image as PNG, atomically."""
    image = to_uint8(image)
    if image.ndim == 2:
        image = image[..., None]
    io_utils.atomic_write_bytes(path, encode_png(image))


def save_grid(
    path: str | os.PathLike, images: np.ndarray, rows: int,
    min_height: int = 256,
) -> None:
    """Saves `images` as a grid, enlarged so the grid is >= `min_height` px."""
    grid = image_grid(images, rows)
    factor = max(1, -(-min_height // grid.shape[0]))
    save_png(path, upscale(grid, factor))


def save_rows(
    path: str | os.PathLike, images: np.ndarray, min_height: int = 256
) -> None:
    """Saves `(rows, cols, H, W, C)` images as a grid, one row per row.

    For interpolation strips (row = pair, column = step), traversals
    (row = latent dimension, column = value) and edits (row = image,
    column = strength).
    """
    images = np.asarray(images)
    if images.ndim != 5:
        raise ValueError(
            "Expected images of shape (rows, cols, H, W, C). Received: "
            f"{images.shape}"
        )
    rows, cols = images.shape[:2]
    save_grid(path, images.reshape((rows * cols,) + images.shape[2:]), rows,
              min_height=min_height)
