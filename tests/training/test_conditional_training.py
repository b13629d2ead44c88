"""`vae-tf train --condition`: a conditional run directory, `vae-tf
sample --set`, resume, and the errors that name what is available."""

import csv
import json
import os

import numpy as np
import pytest

from grids import tiles
from crash import crash_then_resume
from conditional import CONDITIONAL as TINY
from vae_tf import VAEConfig, cli


@pytest.fixture
def cond_run(conditional_run):
    return conditional_run


def test_the_run_keeps_its_condition_specs_and_pictures(cond_run):
    saved = VAEConfig.load(cond_run / "config.json")
    assert saved.condition == ("glasses", "hair_color", "smile")
    kinds = [(s.name, s.kind, s.width) for s in saved.specs()]
    assert kinds == [("glasses", "class", 2), ("hair_color", "class", 4),
                     ("smile", "continuous", 1)]
    for name in ("model.keras", "samples.png", "reconstructions.png",
                 "sampler.json"):
        assert (cond_run / name).is_file(), name
    with open(cond_run / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_sample_set_decodes_the_same_draws_under_each_condition(
        cond_run, tmp_path, capsys):
    """Same seed, same z: only the condition differs between the grids,
    so the pictures differ; the same --set twice gives the same grid."""
    grids = {}
    for name, settings in (("a", "glasses=0,hair_color=black,smile=0"),
                           ("b", "glasses=1,hair_color=red,smile=0"),
                           ("c", "glasses=0,hair_color=black,smile=0")):
        out = tmp_path / f"{name}.png"
        assert cli.main(["sample", str(cond_run), "--set", settings,
                         "--n", "8", "--out", str(out)]) == 0
        grids[name] = tiles(str(out), 2, 4)
    np.testing.assert_array_equal(grids["a"], grids["c"])
    assert np.abs(grids["a"] - grids["b"]).mean() > 0.5


@pytest.mark.parametrize("args, message", [
    ([], "give every draw's values with --set, e.g. --set glasses=..."),
    (["--set", "glasses=1"], "No value for hair_color, smile"),
    (["--set", "glasses=1,hair_color=green,smile=0"],
     "hair_color has no value 'green'. Valid: black (0)"),
])
def test_sample_set_errors_are_one_line(cond_run, capsys, args, message):
    assert cli.main(["sample", str(cond_run), *args]) == 2
    assert message in capsys.readouterr().err


def test_unknown_factors_and_unlabelled_data_are_refused(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    assert cli.main(["train", "--config", str(config), "--condition",
                     "glasses,hat", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "no factor 'hat'. Available: background, beard, glasses" in err
    images = np.random.default_rng(0).integers(
        0, 255, (40, 32, 32, 3), np.uint8)
    np.savez(tmp_path / "plain.npz", x=images)
    assert cli.main(["train", "--config", str(config), "--data",
                     f"npz:{tmp_path / 'plain.npz'}", "--condition",
                     "glasses", "--out", str(tmp_path / "r2")]) == 2
    assert "has no labelled factors" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "r2" / "model.keras")


def test_a_conditional_run_resumes(tmp_path):
    config = VAEConfig(**TINY, condition=["beard"])
    epochs, result = crash_then_resume(config, str(tmp_path / "run"))
    assert epochs == [1] and len(result.history["loss"]) == 2
    assert result.config.specs()[0].values == (0, 1)


def test_tensorboard_draws_the_conditional_models_pictures(cond_run):
    """logs/latent holds the per-epoch reconstructions and samples of a
    conditional run too: the last epoch's reconstructions are the
    validation images decoded under their own factors."""
    import glob

    import tensorflow as tf

    from vae_tf.data.conditions import model_conditions
    from vae_tf.runs import Run

    found = {}
    for path in glob.glob(str(cond_run / "logs" / "latent" / "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(value)
    assert {"reconstructions", "samples"} <= set(found)
    assert len(found["reconstructions"]) == 2
    run = Run(str(cond_run))
    x = run.split_images("validation")[:8]
    conditions = model_conditions(run.config.specs(),
                                  run.data.validation.attributes, 8)
    z = run.models.encoder.predict({"image": x, **conditions}, verbose=0)[0]
    recon = run.models.decoder.predict({"z": z, **conditions}, verbose=0)
    grid = tf.io.decode_png(tf.make_ndarray(
        found["reconstructions"][-1].tensor)[2]).numpy()
    shown = np.stack([grid[36:68, 2 + 34 * i:34 + 34 * i] for i in range(8)])
    assert np.abs(shown / 255.0 - recon).max() < 2 / 255
