"""A run's `history.csv`: one row per epoch (`epoch`, then each metric in
nats per image), written by Keras' CSVLogger during `fit`; read back as
columns, and trimmed to a backup's epoch when an interrupted run resumes.
Plain `csv`, no TensorFlow.
"""

from __future__ import annotations

import csv
import os

from vae_tf._internal import io_utils


def read_history(path: str) -> dict[str, list[float]]:
    """`history.csv` as `{column: [value per epoch]}` (without `epoch`)."""
    if not os.path.isfile(path):
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {k: [float(r[k]) for r in rows] for k in rows[0] if k != "epoch"}


def trim_history(path: str, epoch: int) -> None:
    """Drops rows of epochs >= `epoch` (written after the last backup)."""
    if not os.path.isfile(path):
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header = rows[0]
    # Rows of later epochs, and a half-written last line, go.
    kept = [header] + [
        r for r in rows[1:]
        if len(r) == len(header) and r[0].isdigit() and int(r[0]) < epoch
    ]
    with io_utils.atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(kept)
