"""Every writer of a user-visible file goes through a temporary file and a
rename: a crash before the rename leaves the old file untouched and no
temporary file behind. The crash is planted by making `os.replace` fail;
a writer that wrote the target directly would change it anyway."""

import os

import numpy as np
import pytest

from vae_tf import build_vae
from vae_tf.pictures.png import save_png
from vae_tf.samplers import PriorSampler, save_sampler
from vae_tf.runs import save_model


def _crash_on_rename(monkeypatch):
    def fail(src, dst):
        raise OSError("planted crash before the rename")
    monkeypatch.setattr(os, "replace", fail)


@pytest.mark.parametrize("name, write", [
    ("model.keras", lambda path, cfg: save_model(build_vae(cfg).vae, path)),
    ("samples.png", lambda path, cfg: save_png(
        path, np.zeros((8, 8, 3), np.uint8))),
    ("config.json", lambda path, cfg: cfg.save(path)),
    ("sampler.json", lambda path, cfg: save_sampler(PriorSampler(3), path)),
])
def test_a_crash_before_the_rename_keeps_the_old_file(
    tiny_config, tmp_path, monkeypatch, name, write
):
    path = tmp_path / name
    path.write_bytes(b"old contents")
    config = tiny_config
    _crash_on_rename(monkeypatch)
    with pytest.raises(OSError, match="planted crash"):
        write(str(path), config)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == [name]  # no temporary file left
    monkeypatch.undo()
    write(str(path), config)  # and without the crash it is replaced
    assert path.read_bytes() != b"old contents"
    assert os.listdir(tmp_path) == [name]


def test_evaluate_report_is_written_atomically(trained_run, tmp_path,
                                               monkeypatch):
    from vae_tf import cli

    out = tmp_path / "report.json"
    out.write_text("old")
    _crash_on_rename(monkeypatch)
    code = cli.main(["evaluate", trained_run, "--k", "0", "--no-quality",
                     "--out", str(out)])
    assert code == 2
    assert out.read_text() == "old"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]
