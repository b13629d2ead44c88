"""An interrupted run's backup: saved whole or not at all, and at resume a
damaged copy is named, the earlier copy used, or the way to start over
given without deleting anything."""

from __future__ import annotations

import json
import os

import pytest

from vae_tf import cli, train
from vae_tf.runs import BackupDamagedError, backup_epoch


def _interrupted(config, out, monkeypatch):
    """A run killed after its last backup (the final save fails): its
    backup holds epoch 2 (latest) and epoch 1 (.bkp)."""
    from vae_tf.training import trainer

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(trainer, "save_model", crash)
        with pytest.raises(RuntimeError):
            train(config, out_dir=str(out), verbose=0)
    backup = out / "backup"
    assert backup_epoch(str(backup)) == 2
    return backup


def _cut(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_each_copy_records_its_weights_size(tiny_config, tmp_path,
                                            monkeypatch):
    backup = _interrupted(tiny_config.replace(epochs=2), tmp_path / "run",
                          monkeypatch)
    for suffix in ("", ".bkp"):
        meta = json.loads((backup / f"training_metadata.json{suffix}")
                          .read_text())
        assert meta["weights_bytes"] == os.path.getsize(
            backup / f"latest.weights.h5{suffix}")
    assert sorted(os.listdir(backup)) == [
        "latest.weights.h5", "latest.weights.h5.bkp",
        "training_metadata.json", "training_metadata.json.bkp"]


@pytest.fixture
def cut_latest(tiny_config, tmp_path, monkeypatch):
    """An interrupted run whose latest backup copy is cut in half:
    `(config, run directory, backup folder)`."""
    config = tiny_config.replace(epochs=2)
    out = tmp_path / "run"
    backup = _interrupted(config, out, monkeypatch)
    _cut(backup / "latest.weights.h5")
    return config, out, backup


def test_a_cut_latest_copy_resumes_from_the_earlier_one(cut_latest, capsys):
    config, out, backup = cut_latest
    capsys.readouterr()
    result = train(config, out_dir=str(out), verbose=0)
    err = capsys.readouterr().err
    assert f"the backup {backup / 'latest.weights.h5'} is damaged" in err
    assert (f"resuming from the earlier copy "
            f"{backup / 'latest.weights.h5.bkp'} (epoch 1)") in err
    # Epoch 2 was trained again, its history row written once.
    assert len(result.history["loss"]) == 2
    assert (out / "model.keras").is_file()


def test_no_usable_copy_says_so_and_how_to_start_over(cut_latest,
                                                      tmp_path, capsys):
    config, out, backup = cut_latest
    (backup / "latest.weights.h5.bkp").write_bytes(b"not HDF5 at all")
    before = sorted(os.listdir(backup))
    with pytest.raises(BackupDamagedError) as raised:
        train(config, out_dir=str(out), verbose=0)
    message = str(raised.value)
    assert str(backup / "latest.weights.h5") in message
    assert str(backup / "latest.weights.h5.bkp") in message
    assert "--restart" in message and "Nothing was deleted" in message
    assert sorted(os.listdir(backup)) == before
    # The command: one line, status 2; then --restart trains afresh.
    config_file = tmp_path / "tiny.json"
    config.save(str(config_file))
    argv = ["train", "--config", str(config_file), "--out", str(out)]
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("vae-tf train: error: The run's backup is "
                              "damaged"), err
    assert sorted(os.listdir(backup)) == before
    assert cli.main(argv + ["--restart"]) == 0
    assert (out / "model.keras").is_file() and not backup.exists()
