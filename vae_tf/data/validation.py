"""Checks image arrays before they reach TensorFlow.

Rule for dtypes: uint8 images are 0..255 and scaled by 1/255; float images
must already be in [0, 1] (the support of every likelihood here); any other
dtype is refused.
"""

from __future__ import annotations

import numpy as np

from vae_tf.data.errors import DataError


def check_images(
    images: np.ndarray, where: str,
    expected_shape: tuple[int, int, int] | None = None,
) -> None:
    """Raises `DataError` naming the problem, the count and first index.

    Args:
        images: `(n, H, W, C)` uint8 or float array.
        where: what the array is, for messages (e.g. "faces train split").
        expected_shape: `(H, W, C)` the model takes, if known.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise DataError(
            f"{where}: expected images of shape (n, height, width, channels)."
            f" Received shape {images.shape} (rank {images.ndim})."
        )
    if len(images) == 0:
        raise DataError(f"{where}: the data set is empty.")
    if 0 in images.shape[1:]:
        raise DataError(
            f"{where}: images of shape {tuple(images.shape[1:])} hold no "
            "pixels; expected positive (height, width, channels)."
        )
    if (expected_shape is not None
            and tuple(images.shape[1:]) != tuple(expected_shape)):
        h, w, c = expected_shape
        got = images.shape[1:]
        what = "channel count" if got[:2] == (h, w) else "image size"
        raise DataError(
            f"{where}: wrong {what}: images are {tuple(got)}, the model "
            f"takes {tuple(expected_shape)} (height, width, channels)."
        )
    if images.dtype == np.uint8:
        return
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(
            f"{where}: dtype {images.dtype} is not supported. Use uint8 "
            "(0..255, scaled by 1/255) or floats in [0, 1]."
        )
    flat = images.reshape(len(images), -1)
    finite = np.isfinite(flat)
    if not finite.all():
        bad = ~finite
        first = int(np.argmax(bad.any(axis=1)))
        raise DataError(
            f"{where}: {int(bad.sum())} NaN/Inf value(s) in "
            f"{int(bad.any(axis=1).sum())} image(s); the first is image "
            f"{first}. Clean or drop those images."
        )
    outside = (flat < 0.0) | (flat > 1.0)
    if outside.any():
        first = int(np.argmax(outside.any(axis=1)))
        raise DataError(
            f"{where}: {int(outside.sum())} value(s) outside [0, 1] (the "
            f"likelihoods' support), first in image {first} (min "
            f"{float(flat.min()):g}, max {float(flat.max()):g}). Scale floats "
            "to [0, 1], or pass uint8 0..255."
        )
