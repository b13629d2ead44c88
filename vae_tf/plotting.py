"""PNG pictures: image grids, written atomically with `tf.io.encode_png`."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from vae_tf import io_utils


def to_uint8(images: np.ndarray) -> np.ndarray:
    """uint8 images as they are; floats in [0, 1] scaled by 255."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


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


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Writes an `(H, W, C)` uint8 or [0, 1] float image as PNG, atomically."""
    image = to_uint8(image)
    if image.ndim == 2:
        image = image[..., None]
    data = tf.io.encode_png(tf.constant(image)).numpy()
    io_utils.atomic_write_bytes(path, data)


def save_grid(
    path: str | os.PathLike, images: np.ndarray, rows: int, min_height: int = 256
) -> None:
    """Saves `images` as a grid, enlarged so the grid is >= `min_height` px."""
    grid = image_grid(images, rows)
    factor = max(1, -(-min_height // grid.shape[0]))
    save_png(path, upscale(grid, factor))


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images scaled by 1/255; others cast to float32."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)
