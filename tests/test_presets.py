"""Pretrained presets: found where vae_tf looks, used by every command
that reads a run when no RUN_DIR is given, a clear message when missing;
and the shipped faces preset still passes today's checks and has the
signatures today's exporter writes (so it cannot silently go stale)."""

import os
import shutil

import numpy as np
import pytest

from repo import REPO
from vae_tf import cli
from vae_tf.runs.presets import (PresetNotFoundError, load_pretrained,
                                 preset_dir, search_path)

SHIPPED = os.path.join(REPO, "saved_models")


@pytest.fixture
def fake_presets(trained_run, tmp_path, monkeypatch):
    """A preset folder holding a copy of the tiny trained run as `faces`."""
    base = tmp_path / "presets"
    shutil.copytree(trained_run, base / "faces")
    monkeypatch.setenv("VAE_TF_PRETRAINED", str(base))
    return base


def test_load_pretrained_and_the_commands_without_run_dir(
        fake_presets, tmp_path, monkeypatch, capsys):
    config, models, sampler = load_pretrained("faces")
    assert config.latent_dim == 4 and sampler.latent_dim == 4
    assert models.decoder.predict(sampler.sample(2), verbose=0).shape == (
        2, 32, 32, 3)
    assert preset_dir() == str(fake_presets / "faces")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cli.main(["sample", "--n", "4"]) == 0
    assert cli.main(["reconstruct", "--pretrained", "faces", "--n", "2"]) == 0
    out = capsys.readouterr().out
    # A preset's pictures go to the working directory, not into it.
    assert sorted(os.listdir(work)) == ["reconstructions_test.png",
                                        "samples_t1.png"]
    assert f"wrote {work / 'samples_t1.png'}" in out
    assert not os.path.exists(fake_presets / "faces" / "samples_t1.png")
    assert cli.main(["sample", str(fake_presets / "faces"),
                     "--pretrained", "faces"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_missing_preset_says_where_it_looked_and_how_to_get_it(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAE_TF_PRETRAINED", str(tmp_path / "nowhere"))
    monkeypatch.setattr("vae_tf.runs.presets.search_path",
                        lambda: [str(tmp_path / "nowhere")])
    with pytest.raises(PresetNotFoundError) as err:
        preset_dir("faces")
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message
    assert "python tools/build_pretrained.py faces" in message
    assert cli.main(["sample"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "not installed" in stderr
    with pytest.raises(ValueError, match="Unknown pretrained model 'cats'"):
        preset_dir("cats")


def test_the_search_path_starts_with_the_environment(monkeypatch):
    monkeypatch.setenv("VAE_TF_PRETRAINED", "/somewhere")
    assert search_path()[0] == "/somewhere"
    assert os.path.join(REPO, "saved_models") in search_path()


def _op_types(version_dir: str) -> dict:
    """How many ops of each type the SavedModel's graph and functions
    hold (node names vary between exports, op types do not)."""
    from collections import Counter

    from vae_tf.export.check import graph_nodes

    return dict(Counter(node.op for node in graph_nodes(version_dir)))


def test_the_shipped_faces_preset_is_complete_and_current(tmp_path):
    """saved_models/ holds the faces preset and its two exports; both
    pass `vae-tf check-export` under serving/'s files with today's code,
    and exporting the shipped run with today's exporter gives the same
    signatures (names, dtypes, shapes), graph ops and files."""
    import json

    from vae_tf.export import check_export, export_run
    from vae_tf.export.check import proto_signatures

    run = os.path.join(SHIPPED, "faces")
    for name in ("model.keras", "config.json", "sampler.json",
                 "recipe.json", "evaluation_test.json",
                 "samples.png", "reconstructions.png"):
        assert os.path.isfile(os.path.join(run, name)), name
    from vae_tf.evaluation.probe import probe_path
    from vae_tf.runs import Run

    # The probe its numbers were measured with, under its cache name.
    probe = os.path.basename(probe_path(Run(run).data))
    assert os.path.isfile(os.path.join(run, probe)), probe
    recipe = json.load(open(os.path.join(run, "recipe.json")))
    assert recipe["command"][:2] == ["vae-tf", "train"]
    fresh = export_run(run, name="faces", base=str(tmp_path))
    for part, today in (("encoder", fresh.encoder_dir),
                        ("decoder", fresh.decoder_dir)):
        shipped = os.path.join(SHIPPED, f"faces_{part}", "1")
        assert proto_signatures(shipped) == proto_signatures(today)
        # The graphs too: an exporter change inside a signature (such as
        # the finite-input check) leaves its names and dtypes alone.
        assert _op_types(shipped) == _op_types(today), part
        assert sorted(os.listdir(os.path.join(shipped, "assets.extra"))) \
            == sorted(os.listdir(os.path.join(today, "assets.extra")))
        checks = check_export(
            os.path.join(SHIPPED, f"faces_{part}"),
            models_config=os.path.join(REPO, "serving", "models.config"),
            platform_config=os.path.join(REPO, "serving",
                                         "platform_config.txt"))
        failed = [(c.name, c.detail) for c in checks if not c.ok]
        assert not failed, failed
    reference = np.load(os.path.join(SHIPPED, "faces_decoder", "1",
                                     "assets.extra",
                                     "vae_tf_reference.npz"))
    assert "sample/seed" in reference.files


def test_git_tracks_the_shipped_preset():
    """A clone gets the preset: no file of it matches an ignore rule
    (an ignore-everything rule once kept all 21 MB out of every commit)."""
    import subprocess

    if not os.path.isdir(os.path.join(REPO, ".git")):
        pytest.skip("not a git checkout")
    files = [os.path.join("saved_models", *parts) for parts in (
        ("faces", "model.keras"), ("faces", "config.json"),
        ("faces", "recipe.json"), ("faces", "sampler.json"),
        ("faces_encoder", "1", "saved_model.pb"),
        ("faces_decoder", "1", "saved_model.pb"),
        ("faces_decoder", "1", "variables", "variables.index"),
        ("faces_decoder", "1", "assets.extra", "tf_serving_warmup_requests"))]
    ignored = subprocess.run(
        ["git", "-C", REPO, "check-ignore", "--no-index", *files],
        capture_output=True, text=True)
    assert ignored.returncode == 1, f"ignored by git: {ignored.stdout}"
