"""One writer per run directory: a second `vae-tf train --out DIR` while
another process trains into DIR exits at once naming that process; the
lock dies with its process, however it ends."""

import json
import os
import signal
import subprocess
import sys

import pytest

from vae_tf import cli
from vae_tf.runs import LOCK_FILE, DirectoryLock, RunInUseError

HOLD = (
    "import sys, time\n"
    "from vae_tf.runs.lock import DirectoryLock\n"
    "DirectoryLock(sys.argv[1]).acquire()\n"
    "print('HELD', flush=True)\n"
    "time.sleep(120)\n")


def _holder(folder):
    """A process (no TensorFlow) that takes `folder`'s lock and sleeps."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "HELD"
    return proc


def test_a_second_writer_is_refused_at_once_naming_the_first(tmp_path,
                                                             capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "latent_dim": 2, "widths": [8],
        "dense_units": 16, "num_examples": 64, "batch_size": 32,
        "epochs": 1}))
    out = tmp_path / "run"
    holder = _holder(out)
    try:
        code = cli.main(["train", "--config", str(config), "--out",
                         str(out)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"another vae-tf process (pid {holder.pid})" in err
        assert "Traceback" not in err
        assert os.listdir(out) == [LOCK_FILE]  # nothing written beside it
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: no clean-up runs
        holder.wait()
    # The OS dropped the dead holder's lock: training now goes through,
    # and the lock file leaves with the run's writer.
    assert cli.main(["train", "--config", str(config), "--out",
                     str(out)]) == 0
    assert LOCK_FILE not in os.listdir(out)
    assert (out / "model.keras").is_file()


def test_the_lock_is_exclusive_and_released_once(tmp_path):
    first = DirectoryLock(str(tmp_path / "d")).acquire()
    with pytest.raises(RunInUseError, match=f"pid {os.getpid()}"):
        DirectoryLock(str(tmp_path / "d")).acquire()
    first.release()
    first.release()  # idempotent
    with DirectoryLock(str(tmp_path / "d")):
        assert (tmp_path / "d" / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / "d" / LOCK_FILE).exists()
