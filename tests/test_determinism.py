"""--deterministic: two CPU runs of one epoch with the same seed give
identical weights."""

import json
import os
import subprocess
import sys

import numpy as np


def _train(config, out):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-m", "vae_tf.cli", "train", "--config", str(config),
         "--out", str(out), "--deterministic"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import vae_tf  # noqa: F401  (registers the layers)
    import keras
    return keras.saving.load_model(out / "model.keras").get_weights()


def test_two_deterministic_runs_give_identical_weights(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 32, "num_examples": 256, "batch_size": 32,
        "epochs": 1, "seed": 11, "likelihood": "bernoulli",  # + binarization
    }))
    a = _train(config, tmp_path / "a")
    b = _train(config, tmp_path / "b")
    assert len(a) == len(b) > 10
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
