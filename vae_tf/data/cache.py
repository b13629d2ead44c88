"""Procedural data sets drawn once and kept: `faces` and `shapes` splits
cached as `.npz` files under `cache_dir()/data/`, so every command that
reads a run loads its data in well under a second instead of redrawing
12,000 faces (9-11 s).

A file is keyed by everything the draw depends on: the set, the image
count, the seed, the image size and the generator's version
(`GENERATOR_VERSION` of `faces` / `shapes`, bumped whenever drawing
changes). It is written to a temporary name and renamed (two processes
drawing the same split both write it whole; the last rename wins, with
the same bytes), and read back checked: a truncated or corrupt file (the
zip's CRC-32 checks, the expected shapes) is drawn again and replaced.
The cache is best effort: a folder that cannot be written is skipped.
`VAE_TF_DATA_CACHE=0` turns it off.
"""

from __future__ import annotations

import os
import zipfile
from typing import Callable, Optional

import numpy as np

from vae_tf._internal import io_utils
from vae_tf._internal.cache import cache_dir

Arrays = tuple[np.ndarray, dict[str, np.ndarray]]


def enabled() -> bool:
    return os.environ.get("VAE_TF_DATA_CACHE", "1") != "0"


def path_for(kind: str, n: int, seed: int, size: int, version: int) -> str:
    """The cache file of one drawn split."""
    return os.path.join(cache_dir(), "data",
                        f"{kind}-n{n}-seed{seed}-{size}px-v{version}.npz")


def load(path: str, n: int, size: int) -> Optional[Arrays]:
    """`(images, attributes)` from `path`, or None if it is missing,
    unreadable or not `n` images of `size` pixels."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            images = stored["images"]
            attributes = {k[len("attr_"):]: stored[k] for k in stored.files
                          if k.startswith("attr_")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if images.shape[:3] != (n, size, size) or images.dtype != np.uint8 or \
            any(len(v) != n for v in attributes.values()):
        return None
    return images, attributes


def store(path: str, images: np.ndarray,
          attributes: dict[str, np.ndarray]) -> None:
    """Writes the split atomically; an unwritable cache is skipped."""
    try:
        with io_utils.atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, images=images,
                         **{f"attr_{k}": v for k, v in attributes.items()})
    except OSError:
        pass


def cached(kind: str, n: int, seed: int, size: int, version: int,
           draw: Callable[[], Arrays]) -> Arrays:
    """The split from the cache, else `draw()` (then stored)."""
    if not enabled():
        return draw()
    path = path_for(kind, n, seed, size, version)
    found = load(path, n, size)
    if found is not None:
        return found
    images, attributes = draw()
    store(path, images, attributes)
    return images, attributes
