"""`tf.data` input pipelines: scale, shuffle, binarize, batch, prefetch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def to_float(images: tf.Tensor) -> tf.Tensor:
    """uint8 pixels scaled by 1/255 to float32 [0, 1]; floats cast as is."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


def as_float_images(images) -> np.ndarray:
    """NumPy twin of `to_float`: uint8 / 255, anything else as float32."""
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


def binarize_fixed(images: np.ndarray, seed: int) -> np.ndarray:
    """One fixed Bernoulli draw per pixel (for validation and test sets).

    Returns float32 0/1 images, shape unchanged.
    """
    x = as_float_images(images)
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=x.shape) < x).astype(np.float32)


def make_dataset(
    images,
    batch_size: int,
    shuffle: bool = False,
    binarize: bool = False,
    seed: int = 0,
    shuffle_buffer: int = 10000,
) -> tf.data.Dataset:
    """A dataset of `(x, x)` batches, `x` float32 `(batch_size, H, W, C)`.

    Args:
        images: uint8 (scaled by 1/255) or float images in [0, 1]: an
            array, or a `tf.data.Dataset` of single images streamed from
            disk (shuffled through a buffer of `shuffle_buffer`).
        batch_size: images per batch; the last batch may be smaller.
        shuffle: reshuffle the whole set every epoch (seeded).
        binarize: dynamic binarization, a new Bernoulli draw per pixel
            each epoch (Salakhutdinov & Murray 2008), done in the graph.
        seed: seeds shuffling and binarization.
    """
    if isinstance(images, tf.data.Dataset):
        ds, buffer = images, shuffle_buffer
    else:
        ds, buffer = tf.data.Dataset.from_tensor_slices(images), len(images)
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if binarize:
        # A stream of stateless seeds: reproducible, one pair per batch.
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds))

        def draw(x, pair):
            u = tf.random.stateless_uniform(tf.shape(x), seed=pair)
            return tf.cast(u < x, tf.float32)

        ds = ds.map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x: (x, x))
    return ds.prefetch(tf.data.AUTOTUNE)
