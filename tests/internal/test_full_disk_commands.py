"""The commands under a full disk (a file-size limit in a subprocess,
`full_disk_commands.py`): one line naming the file, exit status 1, no
traceback, nothing under the file's name or a temporary one, and the
same command completes once there is room."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _results(tmp_path, names):
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "full_disk_commands.py"),
         str(tmp_path), *names],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    line = next((ln for ln in done.stdout.splitlines()
                 if ln.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-3000:]
    return json.loads(line[len("RESULT "):])


def _check(name, result, work):
    err = result["stderr"]
    assert result["status"] == 1, (name, err)
    assert not any("Traceback" in line for line in err), (name, err)
    errors = [line for line in err if ": error: " in line]
    assert errors == [err[-1]], (name, err)  # one line, the last
    assert err[-1].startswith(f"vae-tf {name}: error: the disk is full")
    assert f"while writing {result['names']}" in err[-1], (name, err)
    hidden = [f for f in result["files"]
              if any(part.startswith(".") and ".tmp" in part
                     for part in f.split(os.sep))]
    assert not hidden, (name, hidden)  # no temporary file left behind
    named = os.path.relpath(result["names"], work)
    assert not [f for f in result["files"]
                if f == named or f.startswith(named + os.sep)
                and not f.endswith(".lock")], (name, result["files"])
    assert result["rerun"] == 0, name


AFTER = {  # what the rerun with room wrote
    "train": "run/model.keras",
    "export": "models/m_decoder/1/saved_model.pb",
    "prepare": "shards/manifest.json",
    "sample": "s.png",
    "evaluate": "report.json",
}


def _test(tmp_path, names):
    results = _results(tmp_path, names)
    for name in names:
        _check(name, results[name], str(tmp_path))
        assert AFTER[name] in results[name]["files_after"], name
    return results


def test_a_full_disk_while_training_and_exporting(tmp_path):
    results = _test(tmp_path, ["train", "export"])
    # The run's config stayed; the failed first backup left no copy.
    assert "run/config.json" in results["train"]["files"]
    assert not [f for f in results["train"]["files"]
                if f.startswith("run/backup/latest")]
    assert not [f for f in results["export"]["files"]
                if f.startswith("models/m_decoder/")]


@pytest.mark.slow
def test_a_full_disk_while_preparing_drawing_and_evaluating(tmp_path):
    _test(tmp_path, ["prepare", "sample", "evaluate"])


def _mount_tmpfs(folder, kilobytes) -> bool:
    folder.mkdir()
    return subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs",
         str(folder)], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("kilobytes", [200, 1500, 3000])
def test_training_onto_a_small_tmpfs_fills_it_and_resumes(tmp_path,
                                                          kilobytes):
    """A real full disk (where this machine lets us mount one): the
    run fills it at the best model, the backup or the final model, and
    finishes once the tmpfs is made larger."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, kilobytes):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        config = tmp_path / "tiny.json"
        from full_disk_commands import TINY
        config.write_text(json.dumps(TINY))
        argv = [sys.executable, "-m", "vae_tf.cli", "train", "--config",
                str(config), "--out", str(disk / "run")]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        full = subprocess.run(argv, capture_output=True, text=True, env=env)
        err = full.stderr.strip().splitlines()
        assert full.returncode == 1, full.stderr[-2000:]
        assert err[-1].startswith("vae-tf train: error: the disk is full "
                                  f"(No space left on device) while "
                                  f"writing {disk / 'run'}"), err
        assert "Traceback" not in full.stderr
        hidden = [n for _, _, names in os.walk(disk) for n in names
                  if n.startswith(".") and ".tmp" in n]
        assert not hidden
        subprocess.run(["mount", "-o", "remount,size=100m", str(disk)],
                       check=True)
        again = subprocess.run(argv, capture_output=True, text=True, env=env)
        assert again.returncode == 0, again.stderr[-2000:]
        assert (disk / "run" / "model.keras").is_file()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
