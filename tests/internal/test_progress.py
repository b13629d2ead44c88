"""Progress bars for long work that is not `fit`: drawing procedural data,
exporting, the IWAE bound. Off a terminal ("auto") each prints its title
and one line when done; verbose=0 prints nothing."""

import numpy as np
import pytest

from vae_tf._internal.progress import Progress, resolve_verbose


def _lines(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_auto_is_one_line_off_a_terminal_and_a_live_bar_on_one(
        capsys, monkeypatch):
    import sys

    assert resolve_verbose("auto") == 2  # pytest captures stdout
    assert resolve_verbose(False) == 0 and resolve_verbose(1) == 1
    with pytest.raises(ValueError, match="verbose='loud'"):
        resolve_verbose("loud")
    progress = Progress(10, "Counting sheep", "auto", unit="sheep")
    for _ in range(10):
        progress.advance()
    lines = _lines(capsys)
    assert lines[0] == "Counting sheep"
    assert len(lines) == 2 and lines[1].startswith("10/10 - ")
    assert "sheep" in lines[1]
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert resolve_verbose("auto") == 1 and resolve_verbose(True) == 1


def test_drawing_a_procedural_data_set_shows_progress(
        capsys, monkeypatch, tmp_path):
    from vae_tf.data import load_data

    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "quiet"))  # cold
    quiet = load_data("shapes", num_examples=300, seed=4, verbose=0)
    assert _lines(capsys) == []
    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "shown"))  # cold
    shown = load_data("shapes", num_examples=300, seed=4, verbose="auto")
    lines = _lines(capsys)
    assert lines[0] == "Drawing 360 'shapes' images (64x64)"
    assert lines[1].startswith("360/360 - ")  # all three splits, once
    np.testing.assert_array_equal(quiet.train.images, shown.train.images)
    cached = load_data("shapes", num_examples=300, seed=4, verbose="auto")
    assert _lines(capsys) == []  # drawn once: the cache answers, silently
    np.testing.assert_array_equal(cached.train.images, shown.train.images)


def test_export_and_iwae_show_progress(trained_run, tmp_path, capsys):
    from vae_tf.export import export_run
    from vae_tf.evaluation.metrics.iwae import iwae_nll
    from vae_tf.runs import Run

    export_run(trained_run, base=str(tmp_path), verbose="auto")
    lines = _lines(capsys)
    assert lines[0] == f"Exporting 'vae' version 1 to {tmp_path}"
    assert lines[1].startswith("4/4 - ")
    export_run(trained_run, base=str(tmp_path))
    assert _lines(capsys) == []

    run = Run(trained_run)
    images = np.random.default_rng(0).uniform(
        size=(20, 32, 32, 3)).astype(np.float32)
    iwae_nll(run.models.encoder, run.models.decoder, images, "bernoulli",
             k=4, batch_size=8, verbose=True)
    lines = _lines(capsys)
    assert lines[0] == "IWAE bound, k=4, 20 images:"
    assert lines[1].startswith("20/20 - ")


def test_commands_that_read_a_run_show_its_data_being_drawn(
        trained_run, tmp_path, capsys, monkeypatch):
    """`vae-tf reconstruct` (and every RUN_DIR command) draws the run's
    procedural data when it is not cached yet: a bar, not seconds of
    silence."""
    from vae_tf import cli
    from vae_tf.runs import Run

    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "cache"))  # cold

    assert cli.main(["reconstruct", trained_run, "--out",
                     str(tmp_path / "r.png")]) == 0
    lines = _lines(capsys)
    assert lines[0] == "Drawing 152 'faces' images (32x32)"
    assert lines[1].startswith("152/152 - ")
    Run(trained_run).data  # the library stays silent by default
    assert _lines(capsys) == []
