"""The shape of every data set: three named splits (`SPLITS`) of images
and per-image attributes (`Split`, `DataSet`). NumPy only."""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

# The splits of every data set, as the fields of `DataSet` name them.
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class Split:
    """Images `(n, H, W, C)` and attributes, each an array of shape `(n,)`.

    A split too large for memory has `images=None` and a `stream`: a
    `tf.data.Dataset` of single uint8 images read from disk, with its
    `size` and `shape` given (see `vae_tf.data.shards`).
    """

    images: Optional[np.ndarray]
    attributes: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    stream: Optional[object] = None
    size: Optional[int] = None
    shape: Optional[tuple[int, int, int]] = None

    def __len__(self) -> int:
        return self.size if self.images is None else len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        if self.images is None:
            return tuple(self.shape)
        return tuple(int(d) for d in self.images.shape[1:])

    def source(self):
        """What `make_dataset` takes: the array, or the stream."""
        return self.images if self.images is not None else self.stream


@dataclasses.dataclass
class DataSet:
    """A named data set with its three splits; `skipped` lists the
    `(file, reason)` of every image file a folder could not decode."""

    name: str
    train: Split
    validation: Split
    test: Split
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.image_shape
