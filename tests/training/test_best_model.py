"""`--early-stopping PATIENCE` and `best.keras` (issue 30, point 4):
the lowest validation loss is kept beside the last model; with a
patience, training stops after that many epochs without a new best and
the best weights come back, across a resume too."""

import csv
import json

import keras
import numpy as np
import pytest

from vae_tf import VAEConfig, cli, train
from vae_tf.runs import load_model
from vae_tf.training.best_model import BestModel


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.stop_training = False
    return model


def _epochs(callback, model, losses, start=0):
    """Epochs with these validation losses; epoch i's weights are all i."""
    for i, loss in enumerate(losses, start):
        model.set_weights([np.full(w.shape, float(i), np.float32)
                           for w in model.get_weights()])
        callback.on_epoch_end(i, {"val_loss": loss})
        if model.stop_training:
            break
    callback.on_train_end()


def test_stops_after_patience_epochs_and_restores_the_best():
    model = _model()
    best = BestModel(patience=2)
    best.set_model(model)
    _epochs(best, model, [5.0, 4.0, 4.5, 4.6, 3.0])
    assert model.stop_training and best.record()["stopped_after_epoch"] == 4
    assert best.record()["best_epoch"] == 2
    assert all((w == 1.0).all() for w in model.get_weights())  # epoch 2's
    # Without a patience nothing stops and the last weights stay.
    model, keep = _model(), BestModel()
    keep.set_model(model)
    _epochs(keep, model, [5.0, 4.0, 4.5, 4.6, 4.7])
    assert not model.stop_training and keep.record()["best_epoch"] == 2
    assert all((w == 4.0).all() for w in model.get_weights())


def test_a_resumed_run_keeps_its_best_and_patience_count(tmp_path):
    """Epochs 1-3 ran before a crash (best: epoch 2, saved to disk); the
    resumed fit stops after one more epoch without a new best and restores
    epoch 2's weights from best.keras."""
    path = str(tmp_path / "best.keras")
    model = _model()
    first = BestModel(path)
    first.set_model(model)
    _epochs(first, model, [5.0, 4.0])
    resumed = BestModel(path, patience=2, previous=[5.0, 4.0, 4.5])
    model = _model()
    resumed.set_model(model)
    _epochs(resumed, model, [4.6, 1.0], start=3)
    record = json.loads((tmp_path / "best.json").read_text())
    assert record["stopped_after_epoch"] == 4 and record["best_epoch"] == 2
    assert record["restored_best_weights"]
    assert all((w == 1.0).all() for w in model.get_weights())


@pytest.mark.parametrize("patience", [0, -1, 1.5, True])
def test_bad_patience_is_refused_before_anything_is_written(patience,
                                                            tmp_path):
    from vae_tf.config import ConfigError

    with pytest.raises(ConfigError, match="patience >= 1"):
        train(VAEConfig(), out_dir=str(tmp_path / "r"),
              early_stopping=patience)
    assert not (tmp_path / "r").exists()


def test_a_run_keeps_its_best_model_and_record(tmp_path, capsys):
    """Whatever the losses do: best.json names the epoch of the lowest
    val_loss in history.csv, model.keras holds best.keras' weights, and a
    stop happened only after `patience` epochs without a new best."""
    config = tmp_path / "c.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 16, "num_examples": 160, "batch_size": 32,
        "epochs": 6, "lr_schedule": "constant", "learning_rate": 0.02}))
    out = tmp_path / "run"
    assert cli.main(["train", "--config", str(config), "--early-stopping",
                     "1", "--out", str(out)]) == 0
    assert "early stopping kept epoch" in capsys.readouterr().out
    record = json.loads((out / "best.json").read_text())
    with open(out / "history.csv") as f:
        val = [float(row["val_loss"]) for row in csv.DictReader(f)]
    assert record["best_epoch"] == int(np.argmin(val)) + 1
    assert record["best_val_loss"] == pytest.approx(min(val))
    if record["stopped_after_epoch"]:
        assert record["stopped_after_epoch"] == len(val) == \
            record["best_epoch"] + 1
    for a, b in zip(load_model(str(out / "best.keras")).get_weights(),
                    load_model(str(out / "model.keras")).get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_without_a_run_directory(tiny_config):
    """`train(config, early_stopping=N)` with no `out_dir`: nothing to
    write, the best weights still come back."""
    result = train(tiny_config.replace(epochs=2), early_stopping=1,
                   verbose=0)
    assert len(result.history["val_loss"]) in (1, 2)
