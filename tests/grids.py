"""Reading the tiles back out of a saved image grid (vae_tf.pictures.png)."""

import numpy as np
import tensorflow as tf


def tiles(path, rows, cols, size=32, pad=2):
    """The `rows x cols` tiles of a saved grid, shrunk back to 1:1, as int16
    `(rows * cols, size, size, C)` (row-major)."""
    grid = tf.io.decode_png(tf.io.read_file(str(path))).numpy()
    factor = grid.shape[0] // (rows * (size + pad) + pad)
    grid = grid[::factor, ::factor]
    return np.stack([
        grid[pad + r * (size + pad):pad + r * (size + pad) + size,
             pad + c * (size + pad):pad + c * (size + pad) + size]
        for r in range(rows) for c in range(cols)
    ]).astype(np.int16)
