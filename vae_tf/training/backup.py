"""`RunBackup`: Keras' `BackupAndRestore` (the same files in
`RUN/backup/`, `vae_tf.runs.backup_copies`), safe on a full disk and on
a damaged file.

Saving: after checking the disk has room for them (h5py ends the process
on a full disk instead of raising), the new weights are written under a
temporary name, the latest pair is renamed to the `.bkp` pair, and the
new pair is put in place (renames, no copy): no file under either name
is ever half-written. The metadata records its weights file's size.

Restoring: the first copy `usable_copy` accepts (latest, else `.bkp`);
none usable but some damaged: `BackupDamagedError` naming them and how
to start over. Nothing is deleted.
"""

from __future__ import annotations

import json
import os
import shutil

import keras
import numpy as np
import tensorflow as tf

from vae_tf._internal import disk_full, io_utils
from vae_tf.runs.backup_copies import (METADATA_FILE, PREVIOUS, WEIGHTS_FILE,
                                       BackupDamagedError, damaged_message,
                                       describe_error, usable_copy)

# HDF5's own bytes beyond the arrays, per variable and per file: the
# estimate exceeds what is written (2026-12-04, model + Adam state: the
# default model 10,521,320 bytes written vs 10,832,824 estimated; the
# tiny test model 935,632 vs 1,166,104).
_H5_PER_VARIABLE = 4096
_H5_PER_FILE = 1 << 16


class RunBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore(backup_dir, save_freq, double_checkpoint=True,
    delete_checkpoint=False)` with atomic saves and checked restores.

    Args:
        backup_dir: the run's `backup/` folder.
        save_freq: "epoch", or a number of steps.
        restart_hint: how to start over, for `BackupDamagedError`.
    """

    def __init__(self, backup_dir: str, save_freq="epoch",
                 restart_hint: str = "delete the backup folder"):
        super().__init__(backup_dir, save_freq=save_freq,
                         double_checkpoint=True, delete_checkpoint=False)
        self.restart_hint = restart_hint

    def _save_model(self) -> None:
        weights = os.path.join(self.backup_dir, WEIGHTS_FILE)
        metadata = os.path.join(self.backup_dir, METADATA_FILE)
        os.makedirs(self.backup_dir, exist_ok=True)
        variables = list(self.model.weights)
        if self.model.optimizer is not None:
            variables += self.model.optimizer.variables
        with disk_full.naming(self.backup_dir):  # a full disk names it
            disk_full.require_room(weights, _H5_PER_FILE + sum(
                _H5_PER_VARIABLE + _nbytes(v) for v in variables))
            with io_utils.atomic_path(weights, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp, overwrite=True)
                record = json.dumps({
                    "epoch": self._current_epoch,
                    "batch": self._last_batch_seen,
                    "weights_bytes": os.path.getsize(tmp),
                })
                for path in (metadata, weights):  # latest pair -> .bkp
                    if os.path.exists(path):
                        os.replace(path, path + PREVIOUS)
                io_utils.atomic_write_text(metadata, record)
            # (atomic_path has now renamed the new weights into place)

    def on_train_begin(self, logs=None) -> None:
        copy, damaged = usable_copy(self.backup_dir)
        if copy is None:
            if damaged:
                raise BackupDamagedError(
                    damaged_message(damaged, self.restart_hint))
            return  # nothing backed up yet
        if self.model.optimizer is not None and \
                not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            _load_weights(self.model, copy.weights)
        except Exception as err:  # readable HDF5, but not this model's
            raise BackupDamagedError(damaged_message(
                [(copy.weights, describe_error(err))],
                self.restart_hint)) from None
        self.model._initial_epoch = copy.epoch  # as BackupAndRestore does


def _load_weights(model: keras.Model, path: str) -> None:
    """`model.load_weights(path)`; Keras wants the `.weights.h5` ending,
    which the `.bkp` copy lacks: it is read through a hard link that has
    it (a copy where links are not possible), removed after."""
    if path.endswith(".weights.h5"):
        model.load_weights(path)
        return
    folder = os.path.dirname(path)
    link = os.path.join(folder, f".resume-{os.getpid()}.weights.h5")
    try:
        try:
            os.link(path, link)
        except OSError:
            shutil.copyfile(path, link)
        model.load_weights(link)
    finally:
        if os.path.exists(link):
            os.remove(link)


def _nbytes(variable) -> int:
    return int(np.prod(variable.shape)) * tf.as_dtype(variable.dtype).size
