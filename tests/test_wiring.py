"""What `train` wires together, checked end to end: beta and its schedules
reach the KL layer, the decoder sees a sampled z, temperature scales the
latent draws, a resumed run continues exactly where the uninterrupted run
would be, a non-chief worker writes nothing, and evaluation images are
binarized once.

Each test names the bug it is there to catch.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from vae_tf import build_vae, load_data, train
from vae_tf.samplers import MixtureSampler, PriorSampler
from vae_tf.schedules import kl_layers


@pytest.fixture(scope="module")
def tiny_data():
    return load_data("faces", num_examples=256, seed=1, image_shape=(32, 32, 3))


def _interrupt(config, out, data, epoch):
    """Trains into `out` and crashes as epoch `epoch` (0-based) begins,
    leaving the run directory a rerun resumes from."""
    import keras

    def crash(index, logs=None):
        if index == epoch:
            raise RuntimeError("planted crash")

    with pytest.raises(RuntimeError, match="planted crash"):
        train(config, out_dir=out, data=data, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(
                  on_epoch_begin=crash)])


def _kl_layer(vae):
    found = kl_layers(vae)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("beta", [4.0, 0.25])
def test_beta_reaches_the_kl_layer_and_the_loss(tiny_config, tiny_data, beta):
    """Bug: `config.beta` not passed to `KLDivergence` (loss = recon + KL)."""
    result = train(tiny_config.replace(beta=beta), data=tiny_data, verbose=0)
    assert float(_kl_layer(result.models.vae).beta.numpy()) == beta
    # The loss the trained VAE adds for a batch is beta times the closed
    # form KL of its encoder's outputs (nats per image, batch mean).
    vae, encoder = result.models.vae, result.models.encoder
    x = result.data.validation.images[:16].astype("float32") / 255.0
    x = x + 0.5 * tf.random.stateless_normal(x.shape, seed=(3, 4))  # KL > 0
    vae(x)
    added = float(sum(float(v) for v in vae.losses))
    mean, log_var, _ = (np.asarray(t, np.float64) for t in encoder(x))
    kl = np.mean(0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1 - log_var,
                              axis=1))
    assert kl > 0.1
    np.testing.assert_allclose(added, beta * kl, rtol=1e-4)


@pytest.mark.parametrize("fields, variable, expected", [
    # 8 steps per epoch (256 images / 32): warm-up over 16 steps reaches
    # beta = 1 at the start of the third epoch; logs are read at epoch end,
    # after the epoch's last step (step 7, 15, 23).
    (dict(beta_schedule="linear", warmup_steps=16), "beta",
     [7 / 16, 15 / 16, 1.0]),
    (dict(beta_schedule="capacity", capacity_max=8.0, capacity_steps=16),
     "capacity", [8.0 * 7 / 16, 8.0 * 15 / 16, 8.0]),
])
def test_schedules_change_the_kl_layer_during_train(
    tiny_config, tiny_data, fields, variable, expected
):
    """Bug: `schedule_callbacks` not passed to `fit` (beta stays fixed)."""
    config = tiny_config.replace(epochs=3, **fields)
    result = train(config, data=tiny_data, verbose=0)
    np.testing.assert_allclose(result.history[variable], expected, rtol=1e-6)
    layer = _kl_layer(result.models.vae)
    assert float(getattr(layer, variable).numpy()) == pytest.approx(
        expected[-1])


def test_cyclical_beta_rises_and_falls_within_train(tiny_config, tiny_data):
    """Bug: the cyclical schedule not wired, or not restarting each cycle."""
    config = tiny_config.replace(epochs=4, beta_schedule="cyclical",
                                 num_cycles=2, cycle_ratio=0.5)
    seen = []

    import keras

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(_kl_layer(self.model).beta.numpy()))

    train(config, data=tiny_data, verbose=0, callbacks=[Record()])
    seen = np.array(seen)
    assert len(seen) == 32
    assert seen[0] == 0.0 and seen[16] == 0.0  # each cycle restarts at 0
    assert seen.max() == 1.0
    assert np.all(np.diff(seen[:8]) > 0)  # first half of a cycle: ramp


def test_deterministic_turns_on_op_determinism_only_when_asked(
        tiny_config, tiny_data, monkeypatch):
    """`--deterministic` (GPU kernels; seeded CPU runs are identical
    anyway: tests/training/test_determinism.py) calls TensorFlow's switch,
    and a run without it does not (op determinism slows GPU training)."""
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: calls.append(True))
    config = tiny_config.replace(epochs=1)
    train(config, data=tiny_data, verbose=0)
    assert calls == []
    train(config, data=tiny_data, verbose=0, deterministic=True)
    assert calls == [True]


def test_decoder_is_trained_on_sampled_z(tiny_config):
    """Bug: the decoder fed `z_mean` (it trains fine, but is no VAE).

    With z = mu + sigma * eps the reconstruction term depends on
    z_log_var, so its gradient reaches the log-variance head; fed
    `z_mean`, that gradient is exactly zero.
    """
    from vae_tf.losses import ReconstructionLoss

    models = build_vae(tiny_config)
    x = tf.random.stateless_uniform((8, 32, 32, 3), seed=(1, 2))
    head = models.vae.get_layer("encoder").get_layer("z_log_var_raw")
    loss_fn = ReconstructionLoss(tiny_config.likelihood,
                                 tiny_config.likelihood_scale)
    with tf.GradientTape() as tape:
        params = models.vae(x, training=True)
        loss = loss_fn(x, params)
    grad = tape.gradient(loss, head.kernel)
    assert grad is not None
    assert float(tf.reduce_max(tf.abs(grad))) > 1e-6
    # And two training-mode passes differ: the noise is live.
    again = models.vae(x, training=True)
    assert float(tf.reduce_max(tf.abs(again - params))) > 1e-6


def test_temperature_scales_prior_draws_exactly():
    """Bug: temperature ignored (a loose std check passes 97% of seeds)."""
    prior = PriorSampler(6)
    z1 = prior.sample(50, seed=3, temperature=1.0)
    for t in (0.5, 2.0):
        np.testing.assert_allclose(prior.sample(50, seed=3, temperature=t),
                                   t * z1, rtol=1e-6, atol=1e-7)


def test_temperature_scales_mixture_deviations_exactly():
    """Same draws, deviations from the chosen component means scaled."""
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 4)) * 5
    covs = np.stack([np.eye(4) * s for s in (0.5, 1.0, 2.0)])
    mixture = MixtureSampler([0.2, 0.3, 0.5], means, covs)
    z1 = mixture.sample(200, seed=9, temperature=1.0)
    zt = mixture.sample(200, seed=9, temperature=0.3)
    # The component of each draw: the nearest mean to the t=1 draw is not
    # reliable, but z_t - 0.3 z_1 = 0.7 * mean(component) exactly.
    implied = (zt - 0.3 * z1) / 0.7
    dist = np.linalg.norm(implied[:, None] - means[None], axis=-1)
    assert np.all(dist.min(axis=1) < 1e-4)
    assert len(set(dist.argmin(axis=1))) == 3


def test_generate_sample_passes_temperature_to_the_sampler(tiny_config):
    from vae_tf import generate

    models = build_vae(tiny_config)
    _, z1 = generate.sample(models.decoder, 7, temperature=1.0, seed=4)
    _, zh = generate.sample(models.decoder, 7, temperature=0.5, seed=4)
    np.testing.assert_allclose(zh, 0.5 * z1, rtol=1e-6, atol=1e-7)


def test_resume_names_the_epoch_it_continues_with(
        tiny_config, tiny_data, tmp_path, capsys):
    """Interrupted after one finished epoch, a rerun says it resumes from
    epoch 2 (1-based, as Keras prints "Epoch 2/2") and runs only that."""
    out = str(tmp_path / "run")
    config = tiny_config.replace(epochs=2)
    _interrupt(config, out, tiny_data, epoch=1)
    capsys.readouterr()
    result = train(config, out_dir=out, data=tiny_data, verbose=2)
    printed = capsys.readouterr().out
    assert f"vae-tf: resuming {out} from epoch 2\n" in printed
    assert "Epoch 2/2" in printed and "Epoch 1/2" not in printed
    assert len(result.history["loss"]) == 2


def test_a_resumed_run_that_diverges_names_its_epoch(
        tiny_config, tiny_data, tmp_path):
    """The divergence message names the epoch whose loss became NaN,
    counted from the run's start: in a fresh run (the last loss, not the
    first) and after a resume (interrupted after epoch 1, poisoned in 2)."""
    import keras

    from vae_tf.training.trainer import TrainingDivergedError

    out = str(tmp_path / "run")
    config = tiny_config.replace(epochs=3)

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for weight in self.model.trainable_weights:
                weight.assign(weight * float("nan"))

    class PoisonSecond(Poison):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                super().on_epoch_begin(epoch, logs)

    # Fresh run, finite first epoch: the last loss is the one that counts.
    fresh = str(tmp_path / "fresh")
    with pytest.raises(TrainingDivergedError, match=(
            r"in epoch 2\. Nothing was saved as model\.keras; train into a "
            r"new run directory \(or delete .*fresh\)")):
        train(config, out_dir=fresh, data=tiny_data, verbose=0,
              callbacks=[PoisonSecond()])
    _interrupt(config, out, tiny_data, epoch=1)
    with pytest.raises(TrainingDivergedError, match=r"in epoch 2\."):
        train(config, out_dir=out, data=tiny_data, verbose=0,
              callbacks=[Poison()])


def test_resume_restores_weights_and_optimizer_state(tiny_config, tiny_data,
                                                     tmp_path):
    """Bug: resume restoring the epoch counter but not the weights or the
    optimizer's slots (the final loss is still close: a weak check)."""
    import keras

    out = str(tmp_path / "run")
    config = tiny_config.replace(epochs=3)
    saved = {}

    class CrashAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                saved["weights"] = [w.copy() for w in
                                    self.model.get_weights()]
                saved["optimizer"] = [v.numpy().copy() for v in
                                      self.model.optimizer.variables]

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("planted crash")

    with pytest.raises(RuntimeError, match="planted crash"):
        train(config, out_dir=out, data=tiny_data, verbose=0,
              callbacks=[CrashAfterSecondEpoch()])
    restored = {}

    class Snapshot(keras.callbacks.Callback):
        # User callbacks run after BackupAndRestore has restored.
        def on_train_begin(self, logs=None):
            restored["weights"] = [w.copy() for w in
                                   self.model.get_weights()]
            restored["optimizer"] = [v.numpy().copy() for v in
                                     self.model.optimizer.variables]
            restored["iterations"] = int(
                self.model.optimizer.iterations.numpy())
            restored["epochs"] = []

        def on_epoch_begin(self, epoch, logs=None):
            restored["epochs"].append(epoch)

    result = train(config, out_dir=out, data=tiny_data, verbose=0,
                   callbacks=[Snapshot()])
    assert restored["iterations"] == 16  # two epochs of 8 steps
    assert len(restored["weights"]) == len(saved["weights"]) > 10
    for a, b in zip(restored["weights"], saved["weights"]):
        np.testing.assert_array_equal(a, b)
    assert len(restored["optimizer"]) == len(saved["optimizer"]) > 10
    for a, b in zip(restored["optimizer"], saved["optimizer"]):
        np.testing.assert_array_equal(a, b)
    assert restored["epochs"] == [2]  # only the third epoch ran
    assert len(result.history["loss"]) == 3  # history.csv continued

    # Bugs: the resumed epoch replaying epoch 0's shuffle, or the Sampling
    # layer's seed state not restored: the same seeded run, uninterrupted,
    # must end with the same weights (CPU kernels are deterministic here).
    straight = train(config, out_dir=str(tmp_path / "straight"),
                     data=tiny_data, verbose=0)
    resumed = result.models.vae.get_weights()
    for a, b in zip(resumed, straight.models.vae.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert result.history["loss"][2] == pytest.approx(
        straight.history["loss"][2], rel=1e-6)


def test_non_chief_worker_writes_nothing_but_its_backup(tiny_config,
                                                        tmp_path,
                                                        monkeypatch, capsys):
    """Bug: a non-chief worker writing (or racing the chief on) the run
    directory or the export. Multi-worker `fit` is broken upstream, so a
    one-device MirroredStrategy stands in for it and TF_CONFIG's role is
    set to worker 1."""
    from vae_tf import cli
    from vae_tf.training import distribute
    from vae_tf.training import trainer as training

    monkeypatch.setattr(training, "make_strategy",
                        lambda name: tf.distribute.MirroredStrategy(
                            ["/cpu:0"]))
    monkeypatch.setattr(training, "worker_role", lambda: (False, 1))
    monkeypatch.setattr(distribute, "worker_role", lambda: (False, 1))
    config = tmp_path / "config.json"
    tiny_config.replace(epochs=2).save(str(config))
    out, base = tmp_path / "run", tmp_path / "models"
    assert cli.main(["train", "--config", str(config), "--out", str(out),
                     "--strategy", "multiworker", "--export", "vae",
                     "--export-base", str(base)]) == 0
    printed = capsys.readouterr().out
    assert "Non-chief worker: wrote nothing." in printed
    assert "exported" not in printed
    assert not base.exists()
    # Only the worker's own backup, to resume from, and nothing else.
    found = sorted(os.path.relpath(os.path.join(d, f), out)
                   for d, _, files in os.walk(out) for f in files)
    assert found and all(f.startswith(os.path.join("backup", "worker_1"))
                         for f in found), found


def test_evaluation_splits_are_binarized_once_with_a_fixed_seed(
        tiny_config, tiny_data, monkeypatch):
    """Bugs: validation images binarized anew each epoch (val_loss then
    moves with the draw, not the model) or by an unseeded draw (two runs'
    numbers are not comparable); the same for evaluate's test split."""
    from vae_tf.training import trainer as training
    from vae_tf.runs import split_images

    # seed 3: no other operator on (seed, 1) gives seed + 1 (1 << 1 == 2).
    config = tiny_config.replace(likelihood="bernoulli", epochs=1, seed=3)
    fed = []
    real = training.make_dataset

    def spy(images, *args, **kwargs):
        fed.append((np.array(images), kwargs))
        return real(images, *args, **kwargs)

    monkeypatch.setattr(training, "make_dataset", spy)
    for _ in range(2):
        result = train(config, data=tiny_data, verbose=0)
    (first, kwargs), (second, _) = fed
    assert not kwargs.get("binarize") and not kwargs.get("shuffle")
    assert set(np.unique(first)) == {0.0, 1.0}
    np.testing.assert_array_equal(first, second)
    gray = tiny_data.validation.images / 255.0
    assert abs(first.mean() - gray.mean()) < 0.01  # a draw, not a threshold
    assert not np.array_equal(first, np.round(gray))
    # evaluate scores the validation split on the very draw val_loss used
    np.testing.assert_array_equal(
        first, split_images(result.config, tiny_data, "validation"))

    test = split_images(result.config, tiny_data, "test")
    np.testing.assert_array_equal(
        test, split_images(result.config, tiny_data, "test"))
    assert set(np.unique(test)) == {0.0, 1.0}
