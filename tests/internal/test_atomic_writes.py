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


WRITERS = [
    ("model.keras", lambda path, cfg: save_model(build_vae(cfg).vae, path)),
    ("samples.png", lambda path, cfg: save_png(
        path, np.zeros((8, 8, 3), np.uint8))),
    ("config.json", lambda path, cfg: cfg.save(path)),
    ("sampler.json", lambda path, cfg: save_sampler(PriorSampler(3), path)),
]


@pytest.mark.parametrize("name, write", WRITERS)
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


@pytest.mark.parametrize("name, write", WRITERS)
def test_a_written_file_gets_the_mode_the_umask_gives(
    tiny_config, tmp_path, name, write
):
    """Not the 0600 of the private temporary file: under umask 027 a file
    is 0640 (group-readable), under 022 0644."""
    for umask, mode in ((0o027, 0o640), (0o022, 0o644)):
        old = os.umask(umask)
        try:
            write(str(tmp_path / name), tiny_config)
        finally:
            os.umask(old)
        assert oct(os.stat(tmp_path / name).st_mode & 0o777) == oct(mode)


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


def test_every_file_of_a_run_and_an_export_is_readable_by_others(
        trained_run, exported):
    """Under umask 022 (conftest sets it) every file a training run and an
    export write is 0644 and every folder 0755, so another user, or a TF
    Serving container under another uid, can read them."""
    _, base = exported
    wrong = []
    for top in (trained_run, base):
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                path = os.path.join(folder, name)
                mode = os.stat(path).st_mode & 0o777
                want = 0o755 if os.path.isdir(path) else 0o644
                if mode != want:
                    wrong.append(f"{oct(mode)} {os.path.relpath(path, top)}")
    assert not wrong, wrong
