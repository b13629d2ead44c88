"""Image data from files: Fashion-MNIST idx files, CelebA attribute
files, `.npz` (folders of photos: `vae_tf.data.folder`).

All loaders return NumPy arrays of shape `(n, height, width, channels)`:
uint8 (scaled by 1/255 in the input pipeline) or float32 in [0, 1].
"""

from __future__ import annotations

import gzip
import os
from typing import Optional, Sequence

import numpy as np

from vae_tf.data.errors import DataError, DataNotFoundError

FASHION_MNIST_CLASSES = (
    "t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal",
    "shirt", "sneaker", "bag", "ankle boot",
)
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def fashion_mnist_search_path(data_dir: Optional[str] = None) -> list[str]:
    """Folders searched, in order, for the Fashion-MNIST idx files."""
    places = []
    if data_dir:
        places.append(os.path.expanduser(data_dir))
    places.append(os.path.expanduser("~/.keras/datasets/fashion-mnist"))
    places.append("/usr/share/datasets/fashion-mnist")
    return places


def load_fashion_mnist(data_dir: Optional[str] = None) -> dict[str, np.ndarray]:
    """Reads Fashion-MNIST from the first folder that has all four files.

    Returns:
        dict with `train_images` `(60000, 28, 28, 1)` uint8, `train_labels`
        `(60000,)`, `test_images` `(10000, 28, 28, 1)`, `test_labels`.

    Raises:
        DataNotFoundError: no searched folder has the files.
        DataError: a file is not a valid idx file.
    """
    places = fashion_mnist_search_path(data_dir)
    for folder in places:
        paths = {k: _find_idx(folder, name)
                 for k, name in FASHION_MNIST_FILES.items()}
        if all(paths.values()):
            out = {k: read_idx(p) for k, p in paths.items()}
            for split in ("train", "test"):
                images, labels = out[f"{split}_images"], out[f"{split}_labels"]
                if (images.ndim != 3 or labels.ndim != 1
                        or len(images) != len(labels)):
                    raise DataError(
                        f"Fashion-MNIST {split} files in {folder} do not match:"
                        f" images {images.shape}, labels {labels.shape}"
                    )
                out[f"{split}_images"] = images[..., None]
            return out
    raise DataNotFoundError(
        "Fashion-MNIST not found. Looked for "
        f"{', '.join(n + '[.gz]' for n in FASHION_MNIST_FILES.values())} in: "
        + "; ".join(places)
        + ". Install it with `apt-get install dataset-fashion-mnist` or pass "
        "--data-dir."
    )


def _find_idx(folder: str, name: str) -> Optional[str]:
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path: str) -> np.ndarray:
    """Parses an idx file (optionally gzipped) of unsigned bytes.

    Raises:
        DataError: bad magic number, unsupported type or truncated data.
    """
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"Cannot read idx file {path}: {err}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path} is not an idx file (bad magic number).")
    if data[2] != 0x08:
        raise DataError(
            f"{path}: idx type 0x{data[2]:02x} is not supported "
            "(only unsigned bytes, 0x08)."
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{path}: truncated idx header.")
    shape = tuple(
        int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)
    )
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise DataError(
            f"{path}: idx header promises {expected} values {shape} but the "
            f"file holds {len(data) - header}: it is truncated or corrupt."
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_celeba_attributes(
    path: str, files: Sequence[str]
) -> dict[str, np.ndarray]:
    """Reads a CelebA attribute file; returns 0/1 arrays aligned to `files`."""
    with open(path, encoding="utf-8") as f:
        lines = [line.split() for line in f if line.strip()]
    if len(lines) < 2:
        raise DataError(f"{path}: expected a count line and a header line.")
    # The count line is optional in hand-made files.
    count_first = (lines[0] and lines[0][0].isdigit()
                   and len(lines[0]) == 1)
    names = lines[1] if count_first else lines[0]
    body = lines[2:] if names is lines[1] else lines[1:]
    table = {}
    for row in body:
        if len(row) != len(names) + 1:
            raise DataError(
                f"{path}: row for {row[0]!r} has {len(row) - 1} values, "
                f"expected {len(names)}."
            )
        try:
            table[row[0]] = [int(v) for v in row[1:]]
        except ValueError:
            raise DataError(
                f"{path}: non-integer value in row {row[0]!r}.") from None
    # Rows name a file by its path under the folder or, in CelebA's own
    # flat layout, by its name alone.
    keys = [f if f in table else os.path.basename(f) for f in files]
    missing = [f for f in keys if f not in table]
    if missing:
        raise DataError(
            f"{path} has no attributes for {len(missing)} image(s), e.g. "
            f"{missing[0]!r}."
        )
    values = np.array([table[f] for f in keys], np.int32)
    if not len(keys):
        values = np.zeros((0, len(names)), np.int32)
    return {name: (values[:, j] > 0).astype(np.int32)
            for j, name in enumerate(names)}


def require_npz(path: str) -> None:
    """Raises DataNotFoundError unless `path` is a file."""
    if not os.path.isfile(path):
        raise DataNotFoundError(f"npz file not found: {path}")


def load_npz(path: str) -> dict[str, np.ndarray]:
    """Reads a `.npz` file of images (and optional per-image labels).

    Images are under `x` or `images` (or `x_train` with an optional
    `x_test`), shaped `(n, H, W)` or `(n, H, W, C)`; any other 1-D array of
    length `n` is an attribute.
    """
    require_npz(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except Exception as err:  # zipfile, pickle and format errors alike
        raise DataError(f"Cannot read npz file {path}: {err}") from None
    return arrays
