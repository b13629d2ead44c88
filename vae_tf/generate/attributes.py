"""Attribute directions: the mean code difference between images with and
without an attribute, and edits along it."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vae_tf._internal.pixels import as_float_images
from vae_tf.generate.sources import ModelSource, decoder_fn, encoder_fn


def attribute_vector(encoder: ModelSource, images, labels) -> np.ndarray:
    """Mean code of images with the attribute minus mean of those without.

    Args:
        images: `(n, H, W, C)`.
        labels: `(n,)` booleans or 0/1 (CelebA's -1 counts as 0).

    Returns:
        the direction, `(K,)`.
    """
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(
            f"Got {len(images)} images but {len(labels)} labels."
        )
    _with_and_without(labels > 0)
    return code_difference(encoder_fn(encoder)(as_float_images(images)),
                           labels)


def code_difference(z: np.ndarray, labels) -> np.ndarray:
    """`attribute_vector` from codes already computed: the mean of the
    rows of `z` `(n, K)` whose label is > 0 minus the mean of the others."""
    has = _with_and_without(np.asarray(labels).reshape(-1) > 0)
    return (z[has].mean(axis=0) - z[~has].mean(axis=0)).astype(np.float32)


def best_dimension_vector(z: np.ndarray, labels) -> tuple[int, np.ndarray]:
    """The edit along the one latent dimension best aligned with an
    attribute: `(d, vector)` with d the dimension whose codes separate the
    images with and without the attribute most (the largest |mean
    difference| / standard deviation) and `vector` along dimension d alone
    (0 elsewhere), pointing the way the attribute grows, with the length
    of the attribute vector: a strength moves a code as far as the same
    strength of `attribute_vector` does, `(K,)`."""
    difference = code_difference(z, labels)
    spread = np.maximum(np.asarray(z).std(axis=0), 1e-6)
    d = int(np.argmax(np.abs(difference) / spread))
    vector = np.zeros_like(difference)
    vector[d] = np.sign(difference[d]) * np.linalg.norm(difference)
    return d, vector


def _with_and_without(has: np.ndarray) -> np.ndarray:
    if has.all() or not has.any():
        raise ValueError(
            "attribute_vector needs images both with and without the "
            f"attribute; got {int(has.sum())} of {len(has)} with it."
        )
    return has


def attribute_labels(values) -> np.ndarray:
    """0/1 labels of an attribute's values `(n,)`: a two-valued one at its
    larger value, any other above its median."""
    values = np.asarray(values)
    if len(np.unique(values)) <= 2:
        return (values > values.min()).astype(np.int32)
    return (values > np.median(values)).astype(np.int32)


def edit(
    encoder: ModelSource, decoder: ModelSource, x, vector,
    strengths: Sequence[float],
):
    """Adds `strength * vector` to the codes of `x` and decodes.

    Returns:
        images `(n, len(strengths), H, W, C)`; strength 0 is the plain
        reconstruction.
    """
    x = as_float_images(x)
    if x.ndim == 3:
        x = x[None]
    z = encoder_fn(encoder)(x)
    vector = np.asarray(vector, np.float32).reshape(-1)
    if vector.shape[0] != z.shape[1]:
        raise ValueError(
            f"vector has {vector.shape[0]} entries, the latent space "
            f"{z.shape[1]}."
        )
    s = np.asarray(strengths, np.float32)
    edited = z[:, None, :] + s[None, :, None] * vector[None, None, :]
    images = decoder_fn(decoder)(edited.reshape(-1, z.shape[1]))
    return images.reshape(edited.shape[:2] + images.shape[1:])
