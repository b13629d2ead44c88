"""A full disk while `fit` writes the run directory, said in one line.

- `naming_writes(callback, path)`: a Keras callback that writes into the
  run directory (history, best model, logs; `RunBackup` names its own)
  reports a full disk as `DiskFullError(path)` instead of the TensorFlow
  or OS error of whichever file it was in;
- `EventFilesIntact(logs)`: TensorBoard's writer does not raise on a full
  disk, it drops events (and cuts the record it was writing): after each
  epoch this reads the framing of every event file and raises
  `DiskFullError` naming a file whose last record was cut.
"""

from __future__ import annotations

import errno
import functools
import os
import struct

import keras

from vae_tf._internal import disk_full

# The hooks `fit` calls; only those the callback's class overrides are
# wrapped (Keras skips batch hooks a callback does not implement).
_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_end", "on_test_end", "on_train_end")


def naming_writes(callback: keras.callbacks.Callback,
                  path: str) -> keras.callbacks.Callback:
    """Returns `callback`, its hooks raising `DiskFullError(path)` for a
    full disk."""
    for hook in _HOOKS:
        if getattr(type(callback), hook) is getattr(
                keras.callbacks.Callback, hook):
            continue
        method = getattr(callback, hook)

        @functools.wraps(method)
        def named(*args, _method=method, **kwargs):
            with disk_full.naming(path):
                return _method(*args, **kwargs)

        setattr(callback, hook, named)
    return callback


class EventFilesIntact(keras.callbacks.Callback):
    """Raises `DiskFullError` at an epoch's end if an event file under
    `logs` ends inside a record (TFRecord framing: an 8-byte length, 4
    bytes of its CRC, the data, 4 bytes of the data's CRC)."""

    def __init__(self, logs: str):
        super().__init__()
        self.logs = logs
        self._checked: dict[str, tuple[int, int]] = {}  # path: (size, end)

    def on_train_begin(self, logs=None) -> None:
        # An earlier (interrupted) run's files are not this run's to judge.
        self._checked = {}
        self.check(judge=False)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.check()

    def on_train_end(self, logs=None) -> None:
        self.check()

    def check(self, judge: bool = True) -> None:
        """Raises for a cut file that grew since last seen (`judge`);
        otherwise only records the sizes."""
        for folder, _, names in os.walk(self.logs):
            for name in names:
                if "tfevents" in name:
                    self._check_file(os.path.join(folder, name), judge)

    def _check_file(self, path: str, judge: bool) -> None:
        size = os.path.getsize(path)
        seen, start = self._checked.get(path, (0, 0))
        if not judge:
            self._checked[path] = (size, size)
            return
        if size == seen:
            return
        end = _last_whole_record_end(path, start, size)
        self._checked[path] = (size, end)
        if end != size:
            raise disk_full.DiskFullError(path, errno.ENOSPC)


def _last_whole_record_end(path: str, start: int, size: int) -> int:
    """Where the last whole record from offset `start` ends."""
    with open(path, "rb") as f:
        offset = start
        while offset + 12 <= size:
            f.seek(offset)
            (length,) = struct.unpack("<Q", f.read(8))
            if offset + 12 + length + 4 > size:
                break
            offset += 12 + length + 4
        return offset
