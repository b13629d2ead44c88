"""`--objective beta-tcvae` end to end: plain `fit` trains it, the three
KL terms reach the history and TensorBoard, the model saves, reloads in
safe mode and resumes, and bad combinations are refused by name."""

import csv
import glob
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from crash import crash_then_resume
from vae_tf import VAEConfig, cli
from vae_tf.config import ConfigError
from vae_tf.layers import TotalCorrelation
from vae_tf.models import leaf_layers
from vae_tf.runs import load_run

TERMS = ("mutual_information", "total_correlation", "dimension_kl")


TINY = {"input_shape": [32, 32, 1], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 16, "data": "shapes", "num_examples": 200,
        "batch_size": 32, "epochs": 2}


@pytest.fixture(scope="module")
def tc_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tcvae")
    config = folder / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = folder / "run"
    assert cli.main([
        "train", "--config", str(config), "--objective", "beta-tcvae",
        "--tc-weight", "4", "--out", str(out),
    ]) == 0
    return str(out)


def _tc_layer(model):
    return next(layer for layer in leaf_layers(model)
                if isinstance(layer, TotalCorrelation))


def test_the_three_terms_are_in_the_history_and_tensorboard(tc_run):
    with open(os.path.join(tc_run, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for term in TERMS:
        for row in rows:
            assert np.isfinite(float(row[term]))
            assert np.isfinite(float(row[f"val_{term}"]))
    tags = set()
    for path in glob.glob(os.path.join(tc_run, "logs", "train", "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    assert {f"epoch_{t}" for t in TERMS} <= tags


def test_the_run_reloads_with_its_objective_and_dataset_size(tc_run):
    config, models = load_run(tc_run)  # safe mode
    assert config.objective == "beta-tcvae"
    assert config.tc_weight == 4.0
    layer = _tc_layer(models.vae)
    assert layer.tc_weight == 4.0
    # N is the training split's size, set by `train` (200 images)
    assert float(layer.dataset_size.numpy()) == 200.0
    # the KL layer stays, with beta 0: `kl` is reported, not penalised
    kl = models.vae.get_layer("encoder").get_layer("kl_divergence")
    assert float(kl.beta.numpy()) == 0.0


def test_the_loss_is_reconstruction_plus_the_weighted_terms(tc_run):
    with open(os.path.join(tc_run, "history.csv")) as f:
        last = list(csv.DictReader(f))[-1]
    # epoch means of per-batch values: the identity holds per batch, so
    # it holds for the means up to float rounding
    expected = float(last["reconstruction"]) + float(
        last["mutual_information"]) + 4.0 * float(
        last["total_correlation"]) + float(last["dimension_kl"])
    assert float(last["loss"]) == pytest.approx(expected, rel=1e-3,
                                                abs=1e-2)


def test_training_resumes_a_beta_tcvae_run(tmp_path):
    """Crash before the second epoch, rerun: the run finishes from the
    backup with the TC layer's N intact."""
    config = VAEConfig(**TINY, objective="beta-tcvae", tc_weight=3.0)
    resumed, result = crash_then_resume(config, str(tmp_path / "run"))
    assert resumed == [1]
    assert len(result.history["total_correlation"]) == 2
    assert float(_tc_layer(result.models.vae).dataset_size.numpy()) == 200


@pytest.mark.parametrize("changes, match", [
    ({"objective": "tcvae"}, "objective"),
    ({"objective": "beta-tcvae", "beta": 4.0}, "set beta=1.0"),
    ({"objective": "beta-tcvae", "beta_schedule": "linear"},
     "beta_schedule='constant'"),
    ({"objective": "beta-tcvae", "free_bits": 0.5}, "free_bits=0.0"),
    ({"tc_weight": -1.0}, "tc_weight"),
])
def test_bad_objective_settings_are_named(changes, match):
    with pytest.raises(ConfigError, match=match):
        VAEConfig(**changes)
