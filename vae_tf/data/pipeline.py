"""`tf.data` input pipelines: scale, shuffle, binarize, batch, prefetch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from vae_tf._internal.pixels import (  # noqa: F401
    as_float_images, as_uint8_images)


def to_float(images: tf.Tensor) -> tf.Tensor:
    """uint8 pixels scaled by 1/255 to float32 [0, 1]; floats cast as is."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


def binarize_fixed(images: np.ndarray, seed: int) -> np.ndarray:
    """One fixed Bernoulli draw per pixel (for validation and test sets).

    Returns float32 0/1 images, shape unchanged.
    """
    x = as_float_images(images)
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=x.shape) < x).astype(np.float32)


def _bernoulli_draw(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """One stateless Bernoulli draw per pixel of `x` (probabilities in
    [0, 1]); `seed` is a shape-(2,) stateless seed. float32 0/1."""
    u = tf.random.stateless_uniform(tf.shape(x), seed=seed)
    return tf.cast(u < x, tf.float32)


def _condition_table(conditions):
    """`(matrix (n, C) float32, names, widths)` of encoded conditions
    `{name: (n, width)}` (see `vae_tf.data.conditions`)."""
    names = list(conditions)
    widths = [int(np.shape(conditions[n])[1]) for n in names]
    matrix = np.concatenate([np.asarray(conditions[n], np.float32)
                             for n in names], axis=1)
    return matrix, names, widths


def _with_conditions(names, widths):
    """`(x, c) -> ({"image": x, name: c[:, cols]...}, x)`."""
    def pair(x, c):
        parts = tf.split(c, widths, axis=1)
        return {"image": x, **dict(zip(names, parts))}, x
    return pair


def make_dataset(
    images,
    batch_size: int,
    shuffle: bool = False,
    binarize: bool = False,
    seed: int = 0,
    shuffle_buffer: int = 10000,
    conditions=None,
    flip: bool = False,
) -> tf.data.Dataset:
    """A dataset of `(x, x)` batches, `x` float32 `(batch_size, H, W, C)`;
    with `conditions` (`{factor: (n, width)}` encoded, for a conditional
    model; arrays only, not shuffled), `({"image": x, **conditions}, x)`.

    Args:
        images: uint8 (scaled by 1/255) or float images in [0, 1]: an
            array, or a `tf.data.Dataset` of single images streamed from
            disk (shuffled through a buffer of `shuffle_buffer`).
        batch_size: images per batch; the last batch may be smaller.
        shuffle: reshuffle the whole set every epoch (seeded).
        binarize: dynamic binarization, a new Bernoulli draw per pixel
            each epoch (Salakhutdinov & Murray 2008), done in the graph.
        seed: seeds shuffling, binarization and flips.
        flip: mirror each image left-right with probability 1/2, drawn
            anew every epoch (augmentation).
    """
    if conditions:
        if isinstance(images, tf.data.Dataset) or shuffle or binarize \
                or flip:
            raise ValueError(
                "Conditions are batched beside an array of images, in "
                "order: no stream, shuffle or binarization.")
        matrix, names, widths = _condition_table(conditions)
        ds = tf.data.Dataset.from_tensor_slices((images, matrix))
        ds = ds.batch(batch_size).map(lambda x, c: (to_float(x), c))
        return ds.map(_with_conditions(names, widths)).prefetch(
            tf.data.AUTOTUNE)
    if isinstance(images, tf.data.Dataset):
        ds, buffer = images, shuffle_buffer
    else:
        ds, buffer = tf.data.Dataset.from_tensor_slices(images), len(images)
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if flip:
        flips = tf.data.Dataset.random(
            seed=seed + 1, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, flips)).map(
            lambda x, s: tf.image.stateless_random_flip_left_right(x, s))
    if binarize:
        # A stream of stateless seeds: reproducible, one pair per batch.
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds))

        ds = ds.map(_bernoulli_draw, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x: (x, x))
    return ds.prefetch(tf.data.AUTOTUNE)


def make_training_dataset(
    images,
    batch_size: int,
    epochs: int,
    first_epoch: int = 0,
    binarize: bool = False,
    seed: int = 0,
    shuffle_buffer: int = 10000,
    conditions=None,
    flip: bool = False,
) -> tf.data.Dataset:
    """The `(x, x)` batches of epochs `first_epoch .. epochs - 1`, in order
    (with `conditions`, `({"image": x, **conditions}, x)`, the conditions
    gathered with their images; arrays only).

    Each epoch's shuffle (and, with `binarize`, its Bernoulli draws) is a
    function of `(seed, epoch)` alone, so a run resumed at epoch k sees
    exactly the batches an uninterrupted run sees in epoch k. Train with
    `fit(..., steps_per_epoch=ceil(len(images) / batch_size))`.

    Args:
        images: as for `make_dataset` (an array is shuffled as a whole, a
            stream through a buffer of `shuffle_buffer`).
        batch_size: images per batch; each epoch's last may be smaller.
        epochs: one past the last epoch's index (`fit`'s `epochs`).
        first_epoch: index of the first epoch to produce (0, or the epoch
            a resumed run restarts).
        binarize: dynamic binarization, a new draw per pixel and epoch.
        seed: seeds every epoch's order and draws.
        flip: mirror each image left-right with probability 1/2, a new
            draw per image and epoch (augmentation).
    """
    table = None
    if conditions:
        if isinstance(images, tf.data.Dataset):
            raise ValueError(
                "A conditional model trains on images held in memory, not "
                "on a stream of shards.")
        table = _condition_table(conditions)
    if isinstance(images, tf.data.Dataset):
        count = None
        if images.cardinality() >= 0:
            count = int(images.cardinality())
        ds = _stream_epochs(images, batch_size, first_epoch, epochs, binarize,
                            seed, shuffle_buffer, flip)
    else:
        count = len(images)
        ds = _array_epochs(images, batch_size, first_epoch, epochs, binarize,
                           seed, None if table is None else table[0], flip)
    if count is not None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(
            max(epochs - first_epoch, 0) * -(-count // batch_size)
        ))
    pair = (lambda x: (x, x)) if table is None else _with_conditions(
        *table[1:])
    ds = ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _to_float_batches(ds, pair, binarize: bool, flip: bool = False):
    """uint8/float batches -> float32. Batch b of the epoch seeded `pair`
    gets its draws from seed (pair, b): with `flip`, each image mirrored
    left-right with probability 1/2; with `binarize`, Bernoulli pixels."""
    ds = ds.map(to_float)
    if not (binarize or flip):
        return ds

    def draw(x, batch):
        seed = tf.random.experimental.stateless_fold_in(pair, batch)
        if flip:
            x = tf.image.stateless_random_flip_left_right(
                x, seed=tf.random.experimental.stateless_fold_in(seed, 1))
        return _bernoulli_draw(x, seed) if binarize else x

    return tf.data.Dataset.zip((ds, tf.data.Dataset.range(2**62))).map(draw)


def _array_epochs(images, batch_size, first_epoch, epochs, binarize, seed,
                  conditions=None, flip=False):
    """An array's epochs: the whole set permuted statelessly per epoch
    (batches of `(x, c)` with a condition matrix `(n, C)`)."""
    table = tf.constant(images)
    cond_table = None if conditions is None else tf.constant(conditions)
    base = tf.constant(seed, tf.int64)
    count = len(images)

    def one_epoch(epoch):
        pair = tf.stack([base, epoch])
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=pair
        )
        ds = tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
        x = _to_float_batches(ds.map(lambda i: tf.gather(table, i)), pair,
                              binarize, flip)
        if cond_table is None:
            return x
        return tf.data.Dataset.zip(
            (x, ds.map(lambda i: tf.gather(cond_table, i))))

    return tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)


def _stream_epochs(stream, batch_size, first_epoch, epochs, binarize, seed,
                   shuffle_buffer, flip=False):
    """A stream's epochs, each shuffled through a buffer.

    `Dataset.shuffle` takes no tensor seed when a global seed is set, so
    each epoch's buffer shuffle is built with a Python seed.
    """
    parts = []
    for epoch in range(first_epoch, epochs):
        pair = tf.constant([seed, epoch], tf.int64)
        epoch_seed = int(np.random.SeedSequence(
            [seed & (2**63 - 1), epoch]).generate_state(1)[0])
        parts.append(_to_float_batches(
            stream.shuffle(shuffle_buffer, seed=epoch_seed)
            .batch(batch_size), pair, binarize, flip,
        ))
    if not parts:
        return _to_float_batches(stream.batch(batch_size).take(0),
                                 tf.constant([seed, 0], tf.int64), binarize)
    ds = parts[0]
    for part in parts[1:]:
        ds = ds.concatenate(part)
    return ds
