"""A full disk is recognised in every shape it is raised in, named by the
file being written, and leaves nothing under that name."""

from __future__ import annotations

import errno
import os

import keras
import pytest
import tensorflow as tf

from vae_tf._internal import disk_full, io_utils
from vae_tf._internal.disk_full import DiskFullError, full_disk_errno
from vae_tf.training.disk_writes import EventFilesIntact, naming_writes


@pytest.mark.parametrize("err, code", [
    (OSError(errno.ENOSPC, "No space left on device"), errno.ENOSPC),
    (OSError(errno.EFBIG, "File too large"), errno.EFBIG),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), errno.EDQUOT),
    # TensorFlow's C++ writers (SaveV2, TFRecordWriter) say it in text.
    (tf.errors.OutOfRangeError(None, None, "x/part-0.tempstate1; File too "
                               "large [Op:SaveV2]"), errno.EFBIG),
    (OSError(errno.EACCES, "Permission denied"), None),
    (ValueError("shape mismatch"), None),
])
def test_a_full_disk_is_recognised_in_its_shapes(err, code):
    assert full_disk_errno(err) == code
    try:  # and behind a wrapper that raised while handling it
        try:
            raise err
        except Exception:
            raise RuntimeError("saving failed")
    except RuntimeError as wrapped:
        assert full_disk_errno(wrapped) == code


def test_an_atomic_write_on_a_full_disk_names_the_file_and_keeps_the_old(
        tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(DiskFullError) as raised:
        with io_utils.atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.filename == str(target)
    assert str(raised.value).startswith(
        f"the disk is full (No space left on device) while writing {target}")
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file
    assert target.read_text() == "old"


def test_room_is_checked_against_free_space_and_the_file_size_limit(
        tmp_path):
    disk_full.require_room(str(tmp_path / "w.h5"), 1)
    with pytest.raises(DiskFullError, match="No space left") as raised:
        disk_full.require_room(str(tmp_path / "w.h5"), 1 << 62)
    assert raised.value.filename == str(tmp_path / "w.h5")


def test_callbacks_name_what_they_write(tmp_path):
    class Writer(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise OSError(errno.EFBIG, "File too large")

    writer = naming_writes(Writer(), str(tmp_path / "history.csv"))
    with pytest.raises(DiskFullError) as raised:
        writer.on_epoch_end(0)
    assert raised.value.filename == str(tmp_path / "history.csv")
    # Hooks the class does not override stay Keras' (no per-batch call).
    assert "on_train_batch_end" not in vars(writer)


def _events(folder, steps):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step in range(steps):
            tf.summary.scalar("loss", float(step), step=step)
    writer.close()
    (path,) = [os.path.join(folder, n) for n in os.listdir(folder)]
    return path


def test_a_cut_tensorboard_record_is_reported(tmp_path):
    """TensorBoard's writer drops events on a full disk without raising,
    cutting the record it was writing: the epoch's check says so."""
    logs = tmp_path / "logs"
    old = _events(logs / "train_before", 3)  # an earlier run's cut file
    with open(old, "r+b") as f:
        f.truncate(os.path.getsize(old) - 5)
    check = EventFilesIntact(str(logs))
    check.on_train_begin()
    new = _events(logs / "train", 5)
    check.on_epoch_end(0)  # whole records: fine, and the old file is not
    with open(new, "r+b") as f:  # judged
        f.truncate(os.path.getsize(new) - 3)
    with pytest.raises(DiskFullError) as raised:
        check.on_epoch_end(1)
    assert raised.value.filename == new


def test_the_command_line_says_it_in_one_line_with_status_1():
    from vae_tf.cli import _one_line

    named = DiskFullError("run/model.keras", errno.ENOSPC)
    assert _one_line(named, verbose=False) == (
        "error: the disk is full (No space left on device) while writing "
        "run/model.keras. Free some space, then run the command again.", 1)
    unnamed = tf.errors.ResourceExhaustedError(
        None, None, "logs/x; No space left on device")
    message, status = _one_line(unnamed, verbose=False)
    assert status == 1 and message.startswith("error: the disk is full: ")
