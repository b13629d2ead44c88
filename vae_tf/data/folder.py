"""`folder:PATH`: a folder of photos split into train/validation/test.

The split is decided on the file list before anything is decoded
(`plan_folder`: a seeded 80/10/10 permutation of the sorted relative
paths), so `load_folder` (everything in memory) and `vae-tf prepare`
(streamed in chunks, `vae_tf.data.prepare`) put every file in the same
split at the same place. Files that cannot be decoded are skipped and
reported (`DataSet.skipped`), or refused with `strict`.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from vae_tf._internal.progress import Progress, Verbosity
from vae_tf.data import photos
from vae_tf.data.errors import DataError, DataNotFoundError
from vae_tf.data.types import SPLITS, DataSet, Split

CELEBA_ATTRIBUTE_FILE = "list_attr_celeba.txt"
# Beside shards (`vae-tf prepare`) and in a run directory (`vae-tf train`):
# one `file<TAB>reason` line per image file that could not be read.
SKIPPED_REPORT = "skipped_images.txt"
# Files decoded per chunk: bounds memory whatever the folder's size.
CHUNK = 256


def plan_folder(root: str, seed: int = 0) -> dict[str, list[str]]:
    """Relative paths per split, in the order their images are stored.

    Raises:
        DataNotFoundError: `root` is not a folder.
        DataError: fewer than 3 images.
    """
    if not os.path.isdir(root):
        raise DataNotFoundError(f"Image folder not found: {root}")
    files = photos.find_images(root)
    n = len(files)
    if n < 3:
        raise DataError(
            f"folder:{root}: need at least 3 images to split, found {n} "
            f"({', '.join(photos.IMAGE_EXTENSIONS)}, searched recursively).")
    order = np.random.default_rng(seed).permutation(n)
    n_val = n_test = max(1, int(round(0.1 * n)))
    parts = (order[:n_val], order[n_val:n_val + n_test],
             order[n_val + n_test:])
    return {split: [files[i] for i in part]
            for split, part in zip(("validation", "test", "train"), parts)}


def folder_attributes(root: str, plan: dict[str, list[str]]
                      ) -> dict[str, dict[str, np.ndarray]]:
    """0/1 attributes per split, aligned to `plan`'s files, from a CelebA
    attribute file in `root` or its parent (read once; `{}` per split
    without one)."""
    from vae_tf.data.images import read_celeba_attributes

    for place in (root, os.path.dirname(os.path.abspath(root))):
        path = os.path.join(place, CELEBA_ATTRIBUTE_FILE)
        if os.path.isfile(path):
            files = [f for split in SPLITS for f in plan[split]]
            table = read_celeba_attributes(path, files)
            out, start = {}, 0
            for split in SPLITS:
                end = start + len(plan[split])
                out[split] = {k: v[start:end] for k, v in table.items()}
                start = end
            return out
    return {split: {} for split in SPLITS}


def skipped_message(root: str, skipped: Sequence[tuple[str, str]],
                    total: int, strict: bool) -> str:
    """One paragraph naming the unreadable files (the first five)."""
    shown = "; ".join(f"{name} ({why})" for name, why in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    if strict:
        fix = ("Fix or remove them, or leave out --strict (strict_images) "
               "to skip them.")
    else:
        fix = "Skipped; pass --strict to refuse such a folder instead."
    return (f"folder:{root}: {len(skipped)} of {total} image files cannot "
            f"be read: {shown}{more}. {fix}")


def strict_message(root: str, name: str, why: str) -> str:
    return (f"folder:{root}: {name} cannot be read ({why}). --strict "
            "(strict_images) refuses a folder with unreadable files: fix "
            "or remove it, or leave out --strict to skip such files.")


def load_folder(
    root: str,
    image_shape: Sequence[int] = (64, 64, 3),
    fit: str = "crop",
    seed: int = 0,
    strict: bool = False,
    verbose: Verbosity = 0,
) -> DataSet:
    """Every image under `root`, decoded and fitted to `image_shape`
    (`(H, W, C)`, C 1 or 3), split by `plan_folder`.

    Raises:
        DataError: with `strict`, any unreadable file; else a split left
            with no readable image.
    """
    photos.check_fit(fit)
    photos.check_channels(int(image_shape[2]))
    plan = plan_folder(root, seed)
    total = sum(len(v) for v in plan.values())
    h, w, c = (int(d) for d in image_shape)
    progress = Progress(
        total, f"Reading {total:,} images from {root} ({h}x{w}, {fit})",
        verbose, unit="image")
    splits, skipped = {}, []
    attributes = folder_attributes(root, plan)
    for split in SPLITS:
        files = plan[split]
        images = np.empty((len(files), h, w, c), np.uint8)
        keep = np.zeros(len(files), bool)
        for start in range(0, len(files), CHUNK):
            chunk = files[start:start + CHUNK]
            paths = [os.path.join(root, f) for f in chunk]
            for i, image, reason in photos.read_images(paths, (h, w), c, fit):
                if image is None:
                    skipped.append((chunk[i], reason))
                else:
                    images[start + i], keep[start + i] = image, True
            progress.advance(len(chunk))
        splits[split] = Split(images[keep], {
            k: v[keep] for k, v in attributes[split].items()})
    check_skipped(root, skipped, total, strict,
                  {s: len(splits[s]) for s in SPLITS})
    data = DataSet(f"folder:{root}", splits["train"], splits["validation"],
                   splits["test"], skipped=tuple(skipped))
    if skipped and verbose:
        print(f"vae-tf: {skipped_message(root, skipped, total, False)}",
              flush=True)
    return data


def check_skipped(root: str, skipped, total: int, strict: bool,
                  counts: Optional[dict] = None) -> None:
    """Raises `DataError` for unreadable files under `strict`, or for a
    split that kept no image."""
    if skipped and strict:
        raise DataError(skipped_message(root, skipped, total, True))
    empty = [s for s, n in (counts or {}).items() if n == 0]
    if empty:
        raise DataError(
            f"folder:{root}: no readable image left in the {empty[0]} "
            f"split ({len(skipped)} of {total} files unreadable).")


def write_skipped_report(folder: str, skipped) -> str:
    """Writes `folder/skipped_images.txt` (atomically); returns its path."""
    from vae_tf._internal import io_utils

    path = os.path.join(folder, SKIPPED_REPORT)
    io_utils.atomic_write_text(
        path, "".join(f"{name}\t{why}\n" for name, why in skipped))
    return path
