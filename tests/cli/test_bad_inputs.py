"""The bad-input matrix: every case through the Python API, the CLI and the
exported SavedModels as applicable. Each must raise a specific exception
(API) or print one `vae-tf <command>: error: ...` line and exit non-zero
(CLI), and leave no partial file behind. Add new cases here."""

import gzip
import json
import os
import shutil

import numpy as np
import pytest

from vae_tf import (ConfigError, DataError, DataNotFoundError, VAEConfig, cli,
                    train)
from vae_tf.data import load_data
from vae_tf.data.validation import check_images
from vae_tf.export import ExportError, export_run, validate_name
from vae_tf.runs import ModelLoadError, load_run

TINY = {"input_shape": [16, 16, 1], "latent_dim": 2, "widths": [4],
        "dense_units": 8, "num_examples": 32, "batch_size": 8, "epochs": 1}


def _npz(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def _cli_error(capsys, argv, code=2):
    """Runs the CLI; asserts a one-line error and returns it."""
    assert cli.main(argv) == code
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith(f"vae-tf {argv[0]}: ")
    return err[0]


def _leftovers(folder):
    """Files a failed command must not leave behind."""
    found = []
    for root, _, files in os.walk(folder):
        found += [f for f in files
                  if f.endswith((".keras", ".png")) or ".tmp" in f]
    return found


# -- data: API and CLI --------------------------------------------------------

DATA_CASES = {
    # case: (arrays for the npz, API error type, message fragment)
    "wrong rank": (dict(x=np.zeros((10, 16), np.uint8)), DataError,
                   "Received shape (10, 16) (rank 2)"),
    "wrong image size": (dict(x=np.zeros((10, 20, 20, 1), np.uint8)),
                         DataError, "wrong image size"),
    "wrong channel count": (dict(x=np.zeros((10, 16, 16, 3), np.uint8)),
                            DataError, "wrong channel count"),
    "wrong dtype": (dict(x=np.zeros((10, 16, 16, 1), np.int64)), DataError,
                    "dtype int64 is not supported"),
    "NaN values": (dict(x=np.where(
                       np.arange(10 * 256).reshape(10, 16, 16, 1) == 700,
                       np.nan, 0.5).astype(np.float32)),
                   DataError, "1 NaN/Inf value(s)"),
    "values outside [0, 1]": (
        dict(x=np.full((10, 16, 16, 1), 2.0, np.float32)),
        DataError, "outside [0, 1]"),
    "empty data set": (dict(x=np.zeros((0, 16, 16, 1), np.uint8)), DataError,
                       "empty"),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_through_api_and_cli(case, tmp_path, capsys):
    arrays, error, fragment = DATA_CASES[case]
    path = _npz(tmp_path, **arrays)
    config = VAEConfig(**{**TINY, "data": f"npz:{path}"})
    with pytest.raises(error, match=fragment.replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        train(config, out_dir=str(tmp_path / "api_run"), verbose=0)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    line = _cli_error(capsys, ["train", "--config", str(cfg),
                               "--data", f"npz:{path}",
                               "--out", str(tmp_path / "cli_run")])
    assert fragment in line
    assert _leftovers(tmp_path) == []


def test_uint8_images_are_scaled_by_the_documented_rule():
    check_images(np.full((2, 4, 4, 1), 255, np.uint8), "uint8 ok")  # no error
    from vae_tf.data.pipeline import to_float
    import tensorflow as tf
    np.testing.assert_allclose(to_float(tf.constant([[0, 51, 255]], tf.uint8)),
                               [[0.0, 0.2, 1.0]], rtol=1e-6)


def test_nan_message_names_count_and_first_index():
    x = np.zeros((6, 4, 4, 1), np.float32)
    x[3, 0, 0, 0] = np.nan
    x[5, 1, 1, 0] = np.inf
    with pytest.raises(DataError,
                       match=r"2 NaN/Inf value\(s\) in 2 image\(s\); "
                             r"the first is image 3"):
        check_images(x, "x")


# -- config values ------------------------------------------------------------

CONFIG_CASES = {
    "batch size 0": (["--batch-size", "0"], "batch_size=0"),
    "latent_dim <= 0": (["--latent-dim", "-1"], "latent_dim=-1"),
    "beta < 0": (["--beta", "-0.5"], "beta=-0.5"),
    "unknown data name": (["--data", "cifar"], "Unknown data set 'cifar'"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config_values_through_cli(case, tmp_path, capsys):
    args, fragment = CONFIG_CASES[case]
    line = _cli_error(capsys, ["train", *args, "--out", str(tmp_path / "r")])
    assert fragment in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("field, value", [
    ("batch_size", 0), ("latent_dim", 0), ("beta", -1.0),
    ("likelihood", "poisson"), ("architecture", "transformer"),
])
def test_bad_config_values_through_api(field, value):
    with pytest.raises(ConfigError,
                       match=field
                       if field not in ("likelihood", "architecture")
                       else f"Unknown {field}"):
        VAEConfig(**{field: value})


@pytest.mark.parametrize("flag, value", [("--likelihood", "poisson"),
                                         ("--architecture", "transformer")])
def test_unknown_choice_through_cli(flag, value, capsys):
    # argparse: usage + one error line
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", flag, value])
    assert exit_info.value.code == 2
    assert f"invalid choice: '{value}'" in capsys.readouterr().err


# -- files ---------------------------------------------------------------------

def test_missing_data_file(tmp_path, capsys):
    with pytest.raises(DataNotFoundError, match="npz file not found"):
        load_data(f"npz:{tmp_path}/nope.npz")
    line = _cli_error(capsys, ["train", "--data", f"npz:{tmp_path}/nope.npz",
                               "--out", str(tmp_path / "r")])
    assert "npz file not found" in line


def test_corrupt_idx_file(tmp_path, capsys):
    folder = tmp_path / "fm"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(folder / f"{name}.gz", "wb") as f:
            f.write(b"\x00\x00\x08\x03" + (100).to_bytes(4, "big") * 3
                    + b"\x00" * 50)
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_data("fashion_mnist", data_dir=str(folder))
    line = _cli_error(capsys, ["train", "--data", "fashion_mnist",
                               "--data-dir", str(folder),
                               "--out", str(tmp_path / "r")])
    assert "truncated or corrupt" in line


def test_corrupt_npz_file(tmp_path, capsys):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(DataError, match="Cannot read npz"):
        load_data(f"npz:{path}")
    assert "Cannot read npz" in _cli_error(
        capsys,
        ["train", "--data", f"npz:{path}", "--out", str(tmp_path / "r")])


@pytest.mark.parametrize("text, fragment", [
    ('{"latent_dim": 4,', "not valid JSON"),
    ('{"latent_dims": 4}', "Unknown config field"),
    ('{"widths": "wide"}', "widths"),
    ('[1, 2]', "JSON object"),
])
def test_corrupt_or_incomplete_config_json(text, fragment, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        VAEConfig.load(path)
    assert fragment in _cli_error(capsys, ["train", "--config", str(path),
                                           "--out", str(tmp_path / "r")])


def test_truncated_model_keras(trained_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    model = run / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    # The reason names the underlying error and its first line.
    with pytest.raises(ModelLoadError,
                       match=r"truncated or corrupt \(\w+: \S.*\)\.$"):
        load_run(str(run))
    assert "truncated or corrupt" in _cli_error(capsys, ["sample", str(run)])
    assert "truncated or corrupt" in _cli_error(
        capsys, ["export", str(run), "--base", str(tmp_path / "sm")])
    assert not (tmp_path / "sm").exists() or _leftovers(tmp_path / "sm") == []


# -- SavedModels and export ---------------------------------------------------

def test_savedmodel_without_variables(exported, tmp_path, capsys):
    from vae_tf import generate
    result, _ = exported
    broken = tmp_path / "dec" / "1"
    shutil.copytree(result.decoder_dir, broken)
    shutil.rmtree(broken / "variables")
    with pytest.raises(FileNotFoundError, match="no variables/ folder"):
        generate.sample(str(broken), 2)
    assert "no variables/ folder" in _cli_error(
        capsys, ["sample", "-", "--decoder", str(broken),
                 "--out", str(tmp_path / "s.png")])
    assert not (tmp_path / "s.png").exists()
    # check-export: exit 1 + reason
    assert cli.main(["check-export", str(broken)]) == 1
    assert "no variables/" in capsys.readouterr().out


def test_wrong_latent_width_to_decoder_savedmodel(exported, tmp_path):
    import tensorflow as tf
    from vae_tf import generate
    result, _ = exported
    decode = generate.decoder_fn(result.decoder_dir)
    with pytest.raises(ValueError,
                       match=r"expected shape \(batch, 4\). "
                             r"Received: \(3, 7\)"):
        decode(np.zeros((3, 7), np.float32))
    # A client without vae_tf gets TF's signature check, not a crash inside.
    loaded = tf.saved_model.load(result.decoder_dir)
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        loaded.signatures["serving_default"](z=tf.zeros((3, 7)))


@pytest.mark.parametrize("shape, fragment", [
    ((2, 32, 32), r"expected shape \(batch, 32, 32, 3\)"),  # wrong rank
    ((2, 16, 16, 3), r"Received: \(2, 16, 16, 3\)"),        # wrong size
    ((2, 32, 32, 1), r"Received: \(2, 32, 32, 1\)"),        # wrong channels
])
def test_wrong_images_to_encoder_savedmodel_and_keras(exported, trained_run,
                                                      shape, fragment):
    from vae_tf import generate
    result, _ = exported
    x = np.zeros(shape, np.float32)
    for encoder in (result.encoder_dir, load_run(trained_run)[1].encoder):
        with pytest.raises(ValueError, match=fragment):
            generate.encoder_fn(encoder)(x)


def test_export_to_unwritable_directory(trained_run, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="writable --base"):
        export_run(trained_run, base=str(blocker / "models"))
    assert "writable --base" in _cli_error(
        capsys, ["export", trained_run, "--base", str(blocker / "models")])


@pytest.mark.parametrize("name", ["..", "a/b", "../x", "x/../y"])
def test_export_name_with_dots_or_slash(name, trained_run, tmp_path, capsys):
    with pytest.raises(ExportError, match="Invalid export name"):
        validate_name(name)
    base = tmp_path / "models"
    assert "Invalid export name" in _cli_error(
        capsys, ["export", trained_run, "--name", name, "--base", str(base)])
    assert not base.exists()
