import csv
import os
import sys

import numpy as np
import pytest

from grids import tiles
from vae_tf import load_data, load_run, train
from vae_tf.config import ConfigError
from vae_tf.data import DataError
from vae_tf.models import in_precision
from vae_tf.samplers import load_sampler


def test_fit_lowers_validation_negative_elbo_on_faces(tiny_config):
    """A few hundred steps on faces cut the validation -ELBO by >= 25%.

    beta = 1 and the Laplace likelihood is normalised, so `val_loss` is the
    negative ELBO in nats per image. The untrained model sits near 10,000
    nats (32*32*3 pixels at about 3 nats each); 320 steps bring it below
    7,500 with these seeds.
    """
    config = tiny_config.replace(num_examples=2048, epochs=5,
                                 learning_rate=2e-3)
    data = load_data("faces", num_examples=2048, seed=1,
                     image_shape=(32, 32, 3))
    result = train(config, data=data, verbose=0)
    history = result.history
    assert len(history["val_loss"]) == 5
    before = train(config.replace(epochs=1, learning_rate=1e-12), data=data,
                   verbose=0).history["val_loss"][0]
    after = history["val_loss"][-1]
    assert after < 0.75 * before, (before, after)
    assert history["val_kl"][-1] > 1.0  # the latent code is used


def test_run_directory_contents_and_reload(tiny_config, tmp_path, capsys):
    from vae_tf.config import VAEConfig

    out = tmp_path / "run"
    # The config as `vae-tf train --config` reads it: its strings come from
    # JSON, not from literals in the code.
    tiny_config.save(tmp_path / "config.json")
    config = VAEConfig.load(str(tmp_path / "config.json"))
    result = train(config, out_dir=str(out), verbose=0)
    assert capsys.readouterr().out == ""  # verbose=0: no progress bars
    for name in ("config.json", "model.keras", "history.csv",
                 "reconstructions.png", "samples.png"):
        assert (out / name).is_file(), name
    assert any((out / "logs").rglob("*tfevents*"))
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert {"loss", "reconstruction", "kl", "val_loss"} <= set(rows[0])
    config, models = load_run(str(out))
    assert config == result.config
    for saved, trained in zip(models.vae.get_weights(),
                              result.models.vae.get_weights()):
        np.testing.assert_array_equal(saved, trained)
    # load_run computes in float32 whatever the training precision.
    trained = in_precision(result.models, result.config, "float32")
    x = result.data.validation.images[:4].astype("float32") / 255.0
    np.testing.assert_array_equal(
        models.encoder.predict(x, verbose=0)[0],
        trained.encoder.predict(x, verbose=0)[0],
    )
    # no temp files
    assert not [p for p in os.listdir(out) if p.startswith(".")]
    # reconstructions.png: rows of 8 validation images (as the model sees
    # them) over their reconstructions, images 0-7 then 8-15.
    shown_tiles = tiles(out / "reconstructions.png", rows=4, cols=8)
    x = result.data.validation.images[:16]
    recon = result.models.decoder.predict(
        result.models.encoder.predict(x / 255.0, verbose=0)[0], verbose=0)
    recon = np.round(np.clip(recon, 0, 1) * 255)
    shown = np.concatenate([x[:8], recon[:8], x[8:], recon[8:]])
    assert np.abs(shown_tiles - shown).max() <= 1
    # The run draws with the mixture it saved, or the prior when asked;
    # samples.png shows 32 draws of it with the run's seed.
    from vae_tf.samplers import MixtureSampler, PriorSampler
    from vae_tf.runs import run_sampler

    mixture = run_sampler(str(out), config)
    assert isinstance(mixture, MixtureSampler)
    samples = result.models.decoder.predict(
        mixture.sample(32, config.seed), verbose=0)
    assert np.abs(tiles(out / "samples.png", rows=4, cols=8)
                  - np.round(np.clip(samples, 0, 1) * 255)).max() <= 1
    np.testing.assert_array_equal(
        mixture.sample(5, seed=1),
        load_sampler(str(out / "sampler.json")).sample(5, seed=1))
    prior = run_sampler(str(out), config, "prior")
    assert type(prior) is PriorSampler
    for unknown in ("gaussian", "uniform"):  # either side of "mixture"
        with pytest.raises(ConfigError, match=f"Unknown sampler '{unknown}'"):
            run_sampler(str(out), config, unknown)
    # Runs from before sampler.json existed draw from the prior, unless a
    # mixture is asked of a run configured for the prior.
    os.remove(out / "sampler.json")
    assert type(run_sampler(str(out), config)) is PriorSampler
    assert type(run_sampler(str(out), config, "mixture")) is PriorSampler
    # The same for a config built in code rather than read from JSON.
    literal = config.replace(sampler="mixture")
    assert type(run_sampler(str(out), literal)) is PriorSampler
    with pytest.raises(FileNotFoundError, match="no fitted mixture"):
        run_sampler(str(out), config.replace(sampler="prior"), "mixture")


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_the_mixture_is_fitted_to_the_codes_z_mean(
        tiny_config, tmp_path, monkeypatch, likelihood):
    """The ex-post mixture models the training codes and picks its size on
    the validation codes: both the encoder's z_mean, not sampled z, of the
    images as the model sees them (a Bernoulli model's binarized once with
    each split's fixed seed, as evaluation and pictures see them)."""
    from vae_tf import runs
    from vae_tf.training import run_samplers as training

    seen = {}
    real = training.select_mixture

    def spy(z_train, z_val, **kwargs):
        seen.update(train=z_train, val=z_val)
        return real(z_train, z_val, **kwargs)

    monkeypatch.setattr(training, "select_mixture", spy)
    config = tiny_config.replace(likelihood=likelihood)
    result = train(config, out_dir=str(tmp_path / "run"), verbose=0)
    assert result.config.use_binarization == (likelihood == "bernoulli")
    encode = result.models.encoder.predict
    for split, z in (("train", seen["train"]), ("validation", seen["val"])):
        x = runs.split_images(result.config, result.data, split)
        if likelihood == "gaussian":
            np.testing.assert_array_equal(
                x, getattr(result.data, split).images / np.float32(255))
        np.testing.assert_allclose(z, encode(x, verbose=0)[0], atol=1e-6)


def test_a_prior_run_pictures_prior_draws(tiny_config, tmp_path):
    """`sampler="prior"`: samples.png decodes N(0, I) draws, not the
    mixture fitted (and saved) anyway."""
    from vae_tf.samplers import PriorSampler

    out = tmp_path / "run"
    result = train(tiny_config.replace(sampler="prior"), out_dir=str(out),
                   verbose=0)
    z = PriorSampler(tiny_config.latent_dim).sample(32, tiny_config.seed)
    samples = result.models.decoder.predict(z, verbose=0)
    assert np.abs(tiles(out / "samples.png", rows=4, cols=8)
                  - np.round(np.clip(samples, 0, 1) * 255)).max() <= 1
    # What `vae-tf sample|export|evaluate` draw with afterwards: the prior
    # of the config read back from the run (its strings come from JSON).
    from vae_tf.runs import run_sampler

    config, _ = load_run(str(out))
    assert type(run_sampler(str(out), config)) is PriorSampler


def test_a_backup_every_step_into_an_existing_empty_folder(tiny_config,
                                                           tmp_path):
    out = tmp_path / "run"
    out.mkdir()  # made by the user beforehand
    train(tiny_config, out_dir=str(out), verbose=0, save_every_steps=1)
    assert (out / "model.keras").is_file()


@pytest.mark.parametrize("steps", [0, -5, 2.5, "10"])
def test_save_every_steps_must_be_a_positive_integer(tiny_config, steps):
    with pytest.raises(ConfigError, match="save_every_steps to be a positive "
                       f"integer. Received: save_every_steps={steps!r}"):
        train(tiny_config, verbose=0, save_every_steps=steps)


def test_input_shape_mismatch_is_a_clear_error(tiny_config):
    data = load_data("faces", num_examples=20, seed=0, image_shape=(32, 32, 3))
    with pytest.raises(DataError,
                       match="wrong image size.*takes \\(64, 64, 3\\)"):
        train(tiny_config.replace(input_shape=(64, 64, 3)), data=data,
              verbose=0)


def test_trim_history_drops_later_epochs_and_half_lines(tmp_path):
    from vae_tf.runs import read_history, trim_history
    path = tmp_path / "history.csv"
    path.write_text("epoch,kl,loss\n0,1.0,10.0\n1,2.0,9.0\n2,3.0,8.0\n"
                    "3,4.0,7.0\n4,5.0\n")
    trim_history(str(path), 2)
    assert read_history(str(path)) == {"kl": [1.0, 2.0], "loss": [10.0, 9.0]}
    # A half-written line goes whatever its epoch.
    path.write_text("epoch,kl,loss\n0,1.0,10.0\n1,2.0\n")
    trim_history(str(path), 5)
    assert read_history(str(path)) == {"kl": [1.0], "loss": [10.0]}
    # So does a garbled line with extra fields; every column is read,
    # whatever its name.
    path.write_text("epoch,beta,loss\n0,1.0,10.0\n1,2.0,9.0,7\n")
    trim_history(str(path), 5)
    assert read_history(str(path)) == {"beta": [1.0], "loss": [10.0]}


def test_backup_epoch_is_that_of_the_first_whole_copy(tmp_path):
    import h5py

    from vae_tf.runs import backup_epoch
    from vae_tf.runs.backup_copies import usable_copy

    assert backup_epoch(str(tmp_path)) == 0  # nothing backed up yet
    assert usable_copy(str(tmp_path)) == (None, [])

    def pair(suffix, epoch, extra_bytes=0):
        weights = tmp_path / f"latest.weights.h5{suffix}"
        with h5py.File(weights, "w") as f:
            f["w"] = np.arange(4.0)
        size = os.path.getsize(weights) + extra_bytes
        (tmp_path / f"training_metadata.json{suffix}").write_text(
            f'{{"epoch": {epoch}, "weights_bytes": {size}}}')

    (tmp_path / "training_metadata.json").write_text('{"epoch": 3}')
    assert backup_epoch(str(tmp_path)) == 0  # metadata without weights
    pair(".bkp", 2)
    assert backup_epoch(str(tmp_path)) == 2
    copy, damaged = usable_copy(str(tmp_path))
    assert copy.weights.endswith(".bkp") and len(damaged) == 1
    pair("", 3, extra_bytes=7)  # not the size its metadata recorded
    copy, damaged = usable_copy(str(tmp_path))
    assert copy.epoch == 2 and "truncated?" in damaged[0][1]
    pair("", 3)
    assert backup_epoch(str(tmp_path)) == 3


def test_a_crash_after_fit_keeps_the_backup(tiny_config, tmp_path,
                                            monkeypatch):
    """Training state must outlive fit until model.keras is written: a
    crash in between (disk full, kill) must not cost the whole run."""
    from vae_tf import runs
    from vae_tf.training import trainer as training

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(training, "save_model", full_disk)
    out = tmp_path / "run"
    with pytest.raises(OSError, match="No space"):
        train(tiny_config.replace(epochs=2), out_dir=str(out), verbose=0)
    assert runs.backup_epoch(str(out / "backup")) == 2
    assert not (out / "model.keras").exists()
    # The previous backup is kept beside the last one (double_checkpoint):
    # a crash while a backup is written leaves the other.
    assert (out / "backup" / "training_metadata.json.bkp").is_file()


def test_a_diverging_run_stops_with_a_clear_error_and_no_model(tiny_config,
                                                               tmp_path):
    """TerminateOnNaN stops fit; the run must not be saved as finished
    (model.keras with NaN weights) nor crash later in the sampler fit."""
    from vae_tf import cli
    from vae_tf.training.trainer import TrainingDivergedError

    config = tiny_config.replace(epochs=3, learning_rate=1e9)
    data = load_data("faces", num_examples=256, seed=1,
                     image_shape=(32, 32, 3))
    out = tmp_path / "run"
    with pytest.raises(TrainingDivergedError,
                       match="diverged.*epoch 1.*learning_rate=1e\\+09"):
        train(config, out_dir=str(out), data=data, verbose=0)
    assert not (out / "model.keras").exists()
    with open(out / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == 1  # stopped in epoch 1
    path = tmp_path / "config.json"
    config.save(path)
    assert cli.main(["train", "--config", str(path),
                     "--out", str(tmp_path / "cli")]) == 2


def test_verbose_auto_prints_one_line_per_epoch_when_not_a_terminal(
        tiny_config, capsys, monkeypatch):
    """Logs and CI (stdout not a TTY) get Keras' one-line-per-epoch
    output (verbose=2), not a progress bar redrawn with carriage returns."""
    train(tiny_config.replace(epochs=2), verbose="auto")
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "val_loss" in out
    assert "\r" not in out and "\u2501" not in out  # the bar's characters
    # On a terminal: Keras' progress bar.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    train(tiny_config, verbose="auto")
    assert "\u2501" in capsys.readouterr().out


def test_a_run_diverging_after_its_first_epoch_is_refused(
        tiny_config, tmp_path):
    """The last epoch's loss decides: a run whose first epoch was finite
    and whose second was NaN is not saved as finished."""
    import keras

    from vae_tf.training.trainer import TrainingDivergedError

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                for w in self.model.trainable_weights:
                    w.assign(w * float("nan"))

    out = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match="nan in epoch 2"):
        train(tiny_config.replace(epochs=3), out_dir=str(out), verbose=0,
              callbacks=[Poison()])
    assert not (out / "model.keras").exists()
