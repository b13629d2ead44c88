"""Sharded TFRecord data: write once (`vae-tf prepare`), stream from disk.

Layout of a shard folder:

    manifest.json                       image shape, counts, attribute names
    train-00000-of-00012.tfrecord ...   one tf.train.Example per image:
    validation-00000-of-00001.tfrecord  `image` (raw uint8 bytes) and one
    test-00000-of-00001.tfrecord        float feature per attribute

The training split streams through `tf.data` (interleaved shard reads,
shuffle buffer, prefetch), so it never has to fit in memory; validation and
test splits are small and are read into memory for evaluation. Each shard
and the manifest are written to a temporary name and renamed, the manifest
last: a folder with a manifest is complete.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from vae_tf._internal import io_utils
from vae_tf.data.errors import DataError, DataNotFoundError
from vae_tf.data.pipeline import as_uint8_images
from vae_tf.data.types import SPLITS

MANIFEST = "manifest.json"


def write_shards(data, out_dir: str, images_per_shard: int = 4096,
                 verbose: bool = True) -> dict:
    """Writes every split of `data` (a `DataSet`) as TFRecord shards.

    Images are stored as uint8 (floats in [0, 1] are quantised to 1/255).

    Returns:
        The manifest dict written to `out_dir/manifest.json`.
    """
    check_images_per_shard(images_per_shard)
    check_not_written(out_dir)
    manifest = {"name": data.name, "image_shape": list(data.image_shape),
                "splits": {}}
    for split in SPLITS:
        part = getattr(data, split)
        images = as_uint8_images(part.images)
        names = sorted(part.attributes)
        n = len(images)
        count = max(1, -(-n // images_per_shard))
        files = []
        for k in range(count):
            name = shard_name(split, k, count)
            rows = range(k * images_per_shard,
                         min(n, (k + 1) * images_per_shard))
            with io_utils.atomic_path(os.path.join(out_dir, name)) as tmp:
                with tf.io.TFRecordWriter(tmp) as writer:
                    for i in rows:
                        writer.write(example_bytes(
                            images[i],
                            [part.attributes[a][i] for a in names], names))
            files.append(name)
            if verbose:
                print(f"prepare: {split} shard {k + 1}/{count} "
                      f"({len(rows)} images)", flush=True)
        manifest["splits"][split] = {
            "count": n, "files": files, "attributes": names,
        }
    io_utils.atomic_write_text(
        os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=2) + "\n"
    )
    return manifest


def check_images_per_shard(images_per_shard) -> None:
    if not isinstance(images_per_shard, int) or images_per_shard <= 0:
        raise ValueError(
            "Expected images_per_shard to be a positive integer. Received: "
            f"images_per_shard={images_per_shard!r}"
        )


def check_not_written(out_dir: str) -> None:
    """Creates `out_dir`; `FileExistsError` if it holds finished shards."""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, MANIFEST)):
        raise FileExistsError(
            f"{out_dir} already holds shards ({MANIFEST}); choose an empty "
            "--out."
        )


def shard_name(split: str, k: int, count: int) -> str:
    """`train-00003-of-00012.tfrecord`: shard `k` of `count`."""
    return f"{split}-{k:05d}-of-{count:05d}.tfrecord"


def example_bytes(image: np.ndarray, values, names) -> bytes:
    """One serialized `tf.train.Example`: the image's raw uint8 bytes and
    `attr/NAME` per attribute (`values` in the order of `names`)."""
    feature = {"image": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[image.tobytes()]))}
    for name, value in zip(names, values):
        feature[f"attr/{name}"] = tf.train.Feature(
            float_list=tf.train.FloatList(value=[float(value)]))
    return tf.train.Example(
        features=tf.train.Features(feature=feature)
    ).SerializeToString()


def read_manifest(folder: str) -> dict:
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise DataNotFoundError(
            f"No {MANIFEST} in {folder}: not a shard folder written by "
            "`vae-tf prepare` (or the write did not finish)."
        )
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        manifest["image_shape"] = tuple(manifest["image_shape"])
        for split in SPLITS:
            manifest["splits"][split]["files"]
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path} is corrupt: {err}") from None
    return manifest


def stream(folder: str, split: str, manifest: dict) -> tf.data.Dataset:
    """uint8 images of `split`, `(H, W, C)` each, streamed from the shards."""
    info = manifest["splits"][split]
    shape = manifest["image_shape"]
    files = [os.path.join(folder, f) for f in info["files"]]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise DataNotFoundError(f"Missing shard file(s): {missing[:3]}")
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}

    def parse(record):
        raw = tf.io.parse_single_example(record, spec)["image"]
        return tf.reshape(tf.io.decode_raw(raw, tf.uint8), shape)

    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.interleave(
        tf.data.TFRecordDataset, cycle_length=min(4, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
    )
    return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)


def load_split(folder: str, split: str, manifest: dict):
    """A split read fully into memory: `(images, attributes)`."""
    info = manifest["splits"][split]
    files = [os.path.join(folder, f) for f in info["files"]]
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    spec.update({f"attr/{a}": tf.io.FixedLenFeature([], tf.float32)
                 for a in info["attributes"]})
    images, attrs = [], {a: [] for a in info["attributes"]}
    try:
        for record in tf.data.TFRecordDataset(files):
            ex = tf.io.parse_single_example(record, spec)
            images.append(np.frombuffer(ex["image"].numpy(), np.uint8))
            for a in attrs:
                attrs[a].append(float(ex[f"attr/{a}"]))
    except tf.errors.OpError as err:
        raise DataError(f"Corrupt shard in {folder} ({split}): "
                        f"{err.message.splitlines()[0]}") from None
    shape = manifest["image_shape"]
    if images:
        x = np.stack(images).reshape((-1, *shape))
    else:
        x = np.zeros((0, *shape), np.uint8)
    return x, {a: np.asarray(v, np.float32) for a, v in attrs.items()}
