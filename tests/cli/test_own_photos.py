"""A user's own folder of photos, end to end through the command line:
prepare (streamed) -> train from the shards -> evaluate (no labels) ->
export -> sample from the exported decoder."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from photo_folder import BROKEN, make_photo_folder


def _runner(capsys):
    """`vae-tf ARGS` in this process (the console script's `cli.main`):
    its stdout, after asserting exit code 0."""
    from vae_tf import cli

    def run(*args):
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        assert code == 0, out[-2000:] + err[-3000:]
        return out

    return run


def test_a_folder_of_photos_end_to_end(tmp_path, monkeypatch, capsys):
    make_photo_folder(str(tmp_path / "photos"), n=96)
    monkeypatch.chdir(tmp_path)  # the folders below are relative
    _run = _runner(capsys)
    out = _run("prepare", "folder:photos", "--out", "shards",
               "--image-size", "32", "--fit", "pad",
               "--images-per-shard", "32")
    assert "3 of 99 image files cannot be read" in out
    assert "{'train': 76, 'validation': 10, 'test': 10}" in out
    out = _run("train", "--data", "shards:shards", "--out", "run",
               "--epochs", "1", "--latent-dim", "4", "--batch-size", "16",
               "--flip", "--set", "widths=[8,16]",
               "--set", "dense_units=16")
    assert "5/5" in out and "Final validation loss" in out  # 76 / 16
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["input_shape"] == [32, 32, 3]
    assert config["horizontal_flip"] is True
    out = _run("evaluate", "run", "--k", "8", "--iwae-images", "8")
    report = json.loads((tmp_path / "run" / "evaluation_test.json")
                        .read_text())
    assert np.isfinite(report["neg_elbo"])
    assert report["iwae"]["iwae_nll"] <= report["neg_elbo"] + 1e-3
    assert report["reconstruction_pixels"]["psnr_db"] > 5
    assert "labels" in json.dumps(report["skipped"])
    assert "skipped" in out
    _run("export", "run", "--name", "mine", "--base", "sm")
    decoder = tmp_path / "sm" / "mine_decoder" / "1"
    assert (decoder / "saved_model.pb").is_file()
    _run("sample", "--decoder", str(decoder), "--n", "4", "--out",
         "s.png")
    png = (tmp_path / "s.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("size, channels, shape", [
    ("48", None, [48, 48, 3]), ("32x48", "1", [32, 48, 1]),
])
def test_image_size_and_channels_flags(tmp_path, size, channels, shape):
    from vae_tf.cli import build_parser
    from vae_tf.cli.options import config_from_args

    argv = ["train", "--data", "folder:x", "--image-size", size,
            "--fit", "stretch", "--strict"]
    if channels:
        argv += ["--channels", channels]
    config = config_from_args(build_parser().parse_args(argv))
    assert list(config.input_shape) == shape
    assert config.image_fit == "stretch" and config.strict_images is True
    assert config.horizontal_flip is False


def test_bad_image_size_is_one_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-m", "vae_tf", "train", "--image-size", "64x"],
        capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert "expected a size in pixels" in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_names_are_listed_in_the_run(tmp_path):
    """Training straight from the folder lists what it skipped."""
    from vae_tf import VAEConfig
    from vae_tf.training.trainer import train

    make_photo_folder(str(tmp_path / "p"), n=24)
    config = VAEConfig(data=f"folder:{tmp_path / 'p'}",
                       input_shape=(16, 16, 3), widths=(8,), dense_units=8,
                       latent_dim=2, epochs=1, batch_size=8,
                       sampler="prior")
    train(config, out_dir=str(tmp_path / "run"))
    listed = (tmp_path / "run" / "skipped_images.txt").read_text()
    assert sorted(line.split("\t")[0] for line in listed.splitlines()) \
        == sorted(BROKEN)
