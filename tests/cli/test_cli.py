import json
import os
import subprocess
import sys

import pytest

from vae_tf import cli


def _run(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "vae_tf.cli", *args], capture_output=True,
        text=True, cwd=cwd, env=env, timeout=600,
    )


def test_help_documents_every_option():
    text = cli.build_parser().format_help()
    assert "train" in text
    train_help = subprocess.run(
        [sys.executable, "-m", "vae_tf.cli", "train", "--help"],
        capture_output=True, text=True,
    ).stdout
    for flag in ("--data", "--config", "--epochs", "--latent-dim", "--beta",
                 "--likelihood", "--out", "--data-dir"):
        assert flag in train_help


def test_train_end_to_end_tiny_run(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "widths": [8, 16], "dense_units": 16,
        "num_examples": 128, "batch_size": 32,
    }))
    out = tmp_path / "run"
    proc = _run("train", "--config", str(config), "--epochs", "2",
                "--latent-dim", "3", "--beta", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Epoch 2/2" in proc.stdout
    assert "Final validation loss" in proc.stdout
    saved = json.loads((out / "config.json").read_text())
    assert saved["latent_dim"] == 3 and saved["beta"] == 2.0
    assert saved["epochs"] == 2
    png = (out / "samples.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--latent-dim", "0"], "latent_dim=0"),
        (["--beta", "-1"], "beta=-1.0"),
        (["--data", "mnist"], "Unknown data set 'mnist'"),
        (["--data", "npz:/nonexistent/x.npz"], "npz file not found"),
        (["--config", "/nonexistent/c.json"], "Config file not found"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, args, message):
    proc = _run("train", *args, "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_config_flag_reaches_the_config():
    """Each flag that maps onto a VAEConfig field sets it (a refactoring
    once misspelt likelihood_scale and the flag was silently ignored)."""
    from vae_tf.cli import options

    args = cli.build_parser().parse_args([
        "train", "--likelihood-scale", "0.05", "--free-bits", "0.1",
        "--lr-schedule", "one_cycle", "--sampler", "auto", "--epochs", "3",
        "--latent-dim", "8", "--batch-size", "16", "--learning-rate",
        "0.003", "--frequency-weight", "50"])
    config = options.config_from_args(args)
    assert config.frequency_weight == 50.0
    assert (config.likelihood_scale, config.free_bits, config.lr_schedule,
            config.sampler, config.epochs, config.latent_dim,
            config.batch_size, config.learning_rate) == (
        0.05, 0.1, "one_cycle", "auto", 3, 8, 16, 0.003)
    calibrated = options.config_from_args(cli.build_parser().parse_args(
        ["train", "--likelihood-scale", "calibrated"]))
    assert calibrated.likelihood_scale is None
    for field in options.CONFIG_FLAGS:
        assert hasattr(config, field), field


def test_bad_flags_and_data_names_are_refused_before_tensorflow_loads(
        tmp_path):
    """A typo costs a fraction of a second, not TensorFlow's start-up."""
    program = (
        "import sys\n"
        "from vae_tf import cli\n"
        "codes = [cli.main(['train', *a, '--out', 'r']) for a in (\n"
        "    ['--latent-dim', '0'], ['--data', 'mnist'],\n"
        "    ['--data', 'npz:/nonexistent/x.npz'], ['--data', 'faces:x'])]\n"
        "print('RESULT', codes, 'tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert "RESULT [2, 2, 2, 2] False" in done.stdout, done.stderr[-2000:]
    assert "Unknown data set 'faces:x'" in done.stderr
