"""The two copies of an interrupted run's backup, and which one to resume.

`RUN/backup/` holds Keras `BackupAndRestore`'s files: the latest copy
(`latest.weights.h5` + `training_metadata.json`) and the one before it
(the same names + `.bkp`). `usable_copy` checks each without a model:
the metadata reads and names an epoch, the weights file has the size the
metadata recorded, and HDF5 reads every array in it (a truncated or
corrupt file fails here). No TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Optional

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"
PREVIOUS = ".bkp"  # Keras' suffix of the copy before the latest


class BackupDamagedError(ValueError):
    """No copy of a run's backup can be resumed from."""


@dataclasses.dataclass
class BackupCopy:
    """One copy of the backup: its two files and the epoch it resumes."""

    weights: str
    metadata: str
    epoch: int


def copies(backup_dir: str) -> list[tuple[str, str]]:
    """`(weights, metadata)` paths, latest first."""
    return [(os.path.join(backup_dir, WEIGHTS_FILE + suffix),
             os.path.join(backup_dir, METADATA_FILE + suffix))
            for suffix in ("", PREVIOUS)]


def usable_copy(backup_dir: str) -> tuple[Optional[BackupCopy],
                                          list[tuple[str, str]]]:
    """The copy to resume from (None if none is usable), and the damaged
    copies found before it as `(path, reason)`; copies that are not
    there at all are neither."""
    damaged = []
    for weights, metadata in copies(backup_dir):
        if not (os.path.exists(weights) or os.path.exists(metadata)):
            continue
        try:
            epoch = _check(weights, metadata)
        except Exception as err:  # h5py raises many kinds
            damaged.append((weights if os.path.exists(weights)
                            else metadata, describe_error(err)))
            continue
        return BackupCopy(weights, metadata, epoch), damaged
    return None, damaged


def _check(weights: str, metadata: str) -> int:
    """The copy's epoch; raises if it is incomplete or unreadable."""
    with open(metadata, encoding="utf-8") as f:
        record = json.load(f)
    epoch = int(record["epoch"])
    expected = record.get("weights_bytes")  # written by vae_tf since 0.1
    size = os.path.getsize(weights)
    if expected is not None and size != expected:
        raise ValueError(f"{size:,} bytes where its metadata recorded "
                         f"{expected:,} (truncated?)")
    import h5py

    with h5py.File(weights, "r") as f:
        f.visititems(_read_dataset)
    return epoch


def _read_dataset(name: str, item) -> None:
    if hasattr(item, "shape") and hasattr(item, "dtype"):
        item[()]  # reads the bytes: HDF5 checks them


def describe_error(err: Exception) -> str:
    """`Type: first line of the message`, at most 300 characters."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}"[:300]


def damaged_message(damaged: list[tuple[str, str]], restart_hint: str) -> str:
    """`BackupDamagedError`'s text: the files, why, and how to start
    over."""
    listed = "; ".join(f"{path} ({why})" for path, why in damaged)
    return (f"The run's backup is damaged and cannot be resumed from: "
            f"{listed}. Nothing was deleted. To start over, {restart_hint}.")


def resume_epoch(backup_dir: str, restart_hint: str) -> int:
    """The epoch of the copy training will resume from (0: nothing backed
    up yet); a damaged latest copy is said on stderr.

    Raises:
        BackupDamagedError: copies exist but none is usable.
    """
    copy, damaged = usable_copy(backup_dir)
    if copy is None and damaged:
        raise BackupDamagedError(damaged_message(damaged, restart_hint))
    if copy is None:
        return 0
    if damaged:
        where, why = damaged[0]
        print(f"vae-tf: the backup {where} is damaged ({why}); resuming "
              f"from the earlier copy {copy.weights} (epoch {copy.epoch}).",
              file=sys.stderr, flush=True)
    return copy.epoch


def backup_epoch(backup_dir: str) -> int:
    """The epoch a backup resumes from (0 if no copy is usable)."""
    copy, _ = usable_copy(backup_dir)
    return 0 if copy is None else copy.epoch
