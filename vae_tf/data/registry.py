"""`load_data(config)`: one entry point for every data set by name.

Names: `faces` (default), `shapes`, `fashion_mnist`, `folder:PATH`,
`npz:PATH`, `shards:DIR`. Each gives train / validation / test splits
(`SPLITS`) of images `(n, H, W, C)` (uint8, or float32 in [0, 1]) with
per-image attributes. Only `shards:DIR` needs TensorFlow (imported when
used), so the names load without it.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vae_tf.data import cache, faces, folder, images, shapes
from vae_tf.data.errors import DataError
from vae_tf.data.types import DataSet, Split
from vae_tf.data.validation import check_images
from vae_tf._internal.progress import Progress, Verbosity

DATA_NAMES = (
    "faces", "shapes", "fashion_mnist", "folder:PATH", "npz:PATH",
    "shards:PATH",
)


def load_data(
    name: str,
    num_examples: int = 10000,
    seed: int = 0,
    data_dir: Optional[str] = None,
    image_shape: Optional[tuple[int, int, int]] = None,
    verbose: Verbosity = 0,
    fit: str = "crop",
    strict: bool = False,
) -> DataSet:
    """Loads data set `name`.

    Args:
        name: `faces`, `shapes`, `fashion_mnist`, `folder:PATH`, `npz:PATH`.
        num_examples: training images for procedural sets; their
            validation and test sets get `max(num_examples // 10, 1)`.
        seed: seed of procedural generation and of random splits.
        data_dir: first place to look for `fashion_mnist`.
        image_shape: `(H, W, C)` to draw procedural sets and fit folder
            images to; default 64x64 (RGB for faces and folders).
        verbose: a progress bar while procedural images are drawn or a
            folder is read (see `vae_tf._internal.progress`; 0 draws none).
        fit: how folder images take `image_shape`: `crop` (centre),
            `pad` or `stretch` (`vae_tf.data.photos`).
        strict: refuse a folder with unreadable files instead of skipping
            them (they are listed in `DataSet.skipped` either way).

    Raises:
        DataNotFoundError: missing files (the message says where we looked).
        DataError: unknown name or unusable data.
    """
    check_data_name(name)
    kind, _, path = name.partition(":")
    if kind in ("faces", "shapes"):
        return _procedural_dataset(kind, num_examples, seed, image_shape,
                                   verbose)
    if kind == "fashion_mnist":
        return _fashion_mnist_dataset(data_dir)
    if kind == "folder":
        return folder.load_folder(path, image_shape or (64, 64, 3), fit,
                                  seed, strict, verbose)
    if kind == "npz":
        return _npz_dataset(name, path, seed)
    return _shards_dataset(name, path)


def check_data_name(name: str) -> None:
    """Raises what `load_data(name)` would for an unknown name or a
    missing `.npz` file, without loading anything (nor TensorFlow), so a
    command can refuse a typo before its slow start."""
    kind, _, path = name.partition(":")
    if kind in ("faces", "shapes", "fashion_mnist"):
        known = not path
    else:
        known = kind in ("folder", "npz", "shards") and bool(path)
    if not known:
        raise _unknown(name)
    if kind == "npz":
        images.require_npz(path)


def _unknown(name: str) -> DataError:
    return DataError(
        f"Unknown data set {name!r}. Choose one of: {', '.join(DATA_NAMES)}"
    )


def _procedural_dataset(kind: str, num_examples: int, seed: int,
                        image_shape, verbose: Verbosity) -> DataSet:
    """`faces` or `shapes`, drawn with disjoint seeds per split, or read
    from the data cache (`vae_tf.data.cache`) when drawn before."""
    size = image_shape[0] if image_shape else 64
    if image_shape and image_shape[0] != image_shape[1]:
        raise DataError(
            f"{kind} images are square. Received: {image_shape}")
    module = faces if kind == "faces" else shapes
    make = faces.make_faces if kind == "faces" else shapes.make_shapes
    n_eval = max(num_examples // 10, 1)
    # Disjoint seeds per split: the sets never share an image by design.
    counts = [(seed * 3 + k, n)
              for k, n in enumerate((num_examples, n_eval, n_eval))]
    missing = sum(n for s, n in counts if cache.load(cache.path_for(
        kind, n, s, size, module.GENERATOR_VERSION), n, size) is None) \
        if cache.enabled() else num_examples + 2 * n_eval
    progress = Progress(
        missing, f"Drawing {missing:,} {kind!r} images ({size}x{size})",
        verbose if missing else 0, unit="image")
    splits = [
        Split(*cache.cached(
            kind, n, s, size, module.GENERATOR_VERSION,
            lambda n=n, s=s: make(n, seed=s, image_size=size,
                                  progress=progress)))
        for s, n in counts
    ]
    return DataSet(kind, *splits)


def _fashion_mnist_dataset(data_dir: Optional[str]) -> DataSet:
    """The idx files; the last 5,000 training images validate."""
    raw = images.load_fashion_mnist(data_dir)
    train_x, train_y = raw["train_images"], raw["train_labels"]
    cut = len(train_x) - 5000
    return DataSet(
        "fashion_mnist",
        Split(train_x[:cut], {"label": train_y[:cut].astype(np.int32)}),
        Split(train_x[cut:], {"label": train_y[cut:].astype(np.int32)}),
        Split(raw["test_images"],
              {"label": raw["test_labels"].astype(np.int32)}),
    )


def _shards_dataset(name: str, folder: str) -> DataSet:
    """Training split streamed from disk; validation/test in memory."""
    from vae_tf.data import shards

    manifest = shards.read_manifest(folder)
    train = Split(
        None, {}, stream=shards.stream(folder, "train", manifest),
        size=manifest["splits"]["train"]["count"],
        shape=manifest["image_shape"],
    )
    evaluation = [Split(*shards.load_split(folder, s, manifest))
                  for s in ("validation", "test")]
    return DataSet(name, train, *evaluation)


def _npz_dataset(name: str, path: str, seed: int) -> DataSet:
    arrays = images.load_npz(path)
    key = next((k for k in ("x", "images", "x_train") if k in arrays), None)
    if key is None:
        raise DataError(
            f"{path} has no image array: expected a key 'x', 'images' or "
            f"'x_train'. Found: {sorted(arrays)}"
        )
    x = _as_images(arrays[key], f"{path}[{key!r}]")
    attrs = {
        k: v for k, v in arrays.items()
        if k != key and v.ndim == 1 and len(v) == len(x)
    }
    if "x_test" in arrays and key == "x_train":
        test = _as_images(arrays["x_test"], f"{path}['x_test']")
        test_attrs = {
            k.replace("_test", ""): v for k, v in arrays.items()
            if k.endswith("_test") and k != "x_test" and v.ndim == 1
            and len(v) == len(test)
        }
        attrs = {k.replace("_train", ""): v for k, v in attrs.items()}
        train = _random_split(name, x, attrs, seed, test_fraction=0.0)
        return DataSet(name, train.train, train.validation,
                       Split(test, test_attrs))
    return _random_split(name, x, attrs, seed)


def _as_images(x: np.ndarray, where: str) -> np.ndarray:
    """(n, H, W) gains a channel axis; then the usual image checks."""
    if x.ndim == 3:
        x = x[..., None]
    check_images(x, where)
    return x


def _random_split(
    name: str, x: np.ndarray, attrs: dict[str, np.ndarray], seed: int,
    test_fraction: float = 0.1,
) -> DataSet:
    """Shuffled 80/10/10 split (or 90/10 train/validation without test)."""
    n = len(x)
    if n < 3:
        raise DataError(f"{name}: need at least 3 images to split, found {n}.")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(0.1 * n)))
    n_test = max(1, int(round(test_fraction * n))) if test_fraction else 0

    def take(idx):
        return Split(x[idx], {k: v[idx] for k, v in attrs.items()})

    val, test = order[:n_val], order[n_val:n_val + n_test]
    train = order[n_val + n_test:]
    return DataSet(name, take(train), take(val), take(test))
