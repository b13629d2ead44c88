"""Pixel formats in NumPy: uint8 0..255 and float32 [0, 1] images.

The `tf.data` twin of `as_float_images` is `vae_tf.data.pipeline.to_float`.
This module imports NumPy only, so pictures can be written by programs that
do not load TensorFlow (e.g. `serving/client.py`).
"""

from __future__ import annotations

import numpy as np


def as_float_images(images) -> np.ndarray:
    """uint8 / 255; anything else cast to float32 as is."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def as_uint8_images(images) -> np.ndarray:
    """uint8 as is; floats in [0, 1] clipped and quantised to 0..255."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
