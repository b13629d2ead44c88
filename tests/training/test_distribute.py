"""tf.distribute scale-out: MirroredStrategy over 2 logical CPU devices and
MultiWorkerMirroredStrategy with 2 local worker processes."""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

_MIRRORED = r"""
import contextlib, json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from vae_tf import VAEConfig, build_vae, compile_vae, load_data, train

# float32: the trajectories are compared with a tolerance for sampling
# noise only (bfloat16 rounding differs between a batch of 32 and two
# replica batches of 16 and adds its own drift over 8 epochs).
config = VAEConfig(input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
                   dense_units=32, num_examples=1024, batch_size=32,
                   epochs=8, seed=4, precision="float32")
out = {}

# 1. One SGD step from identical weights: the same update on 1 or 2 replicas.
x = np.random.default_rng(0).uniform(size=(32, 32, 32, 3)).astype("float32")
updates = []
for strategy in (None, tf.distribute.MirroredStrategy()):
    with (strategy.scope() if strategy else contextlib.nullcontext()):
        m = build_vae(config)
        # SGD: the update is the gradient itself (Adam's first step is its
        # sign, which flips for noise-level gradients).
        compile_vae(m.vae, config, optimizer=keras.optimizers.SGD(1e-3))
        # A near-deterministic posterior, so replica noise cannot differ.
        m.encoder.get_layer("z_log_var_raw").bias.assign(
            np.full(4, -30.0, "float32"))
        before = [w.numpy().copy() for w in m.vae.trainable_weights]
    m.vae.fit(tf.data.Dataset.from_tensor_slices((x, x)).batch(32), verbose=0)
    updates.append({w.path: w.numpy() - b
                    for w, b in zip(m.vae.trainable_weights, before)})
    if strategy is not None:
        out["replicas"] = strategy.num_replicas_in_sync
single, mirrored = updates
# The replicas draw their own posterior noise (sigma >= exp(-5) by
# SoftClip), so updates agree in direction and size, not bit for bit. A
# mis-scaled loss (e.g. summed instead of averaged over replicas) would
# show as a norm ratio of 2 or 0.5.
a = np.concatenate([u.ravel() for u in single.values()])
b = np.concatenate([mirrored[k].ravel() for k in single])
out["update_norm_ratio"] = float(np.linalg.norm(b) / np.linalg.norm(a))
out["update_cosine"] = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

# 2. The same config trained for 8 epochs both ways.
data = load_data("faces", num_examples=1024, seed=4, image_shape=(32, 32, 3))
out["single"] = train(config, data=data, verbose=0).history["val_loss"]


class Replicas(keras.callbacks.Callback):
    # What fit actually ran under: a train() that ignored the strategy
    # would report 1 replica and plain (unmirrored) variables.
    def on_train_begin(self, logs=None):
        out["train_replicas"] = (
            self.model.distribute_strategy.num_replicas_in_sync)
        out["train_variables"] = sorted({
            type(w.value).__name__ for w in self.model.trainable_weights})


out["mirrored"] = train(config, data=data, verbose=0, strategy="mirrored",
                        callbacks=[Replicas()]).history["val_loss"]
print("RESULT " + json.dumps(out))
"""


def test_multiworker_is_refused_where_the_fixes_do_not_fit(
        monkeypatch, capsys):
    from vae_tf import cli
    from vae_tf.training import multiworker_fixes

    monkeypatch.setattr(multiworker_fixes, "needed", lambda: False)
    assert cli.main(["train", "--strategy", "multiworker"]) == 2
    err = capsys.readouterr().err
    assert "keras-team/keras#20585" in err
    assert "--strategy mirrored" in err


def _result(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(text for text in proc.stdout.splitlines()
                if text.startswith("RESULT "))
    return json.loads(line[7:])


def test_mirrored_over_two_cpu_devices_matches_single_device():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    res = _result(subprocess.run([sys.executable, "-c", _MIRRORED], env=env,
                                 capture_output=True, text=True, timeout=900))
    assert res["replicas"] == 2
    assert res["train_replicas"] == 2, res  # train() itself ran mirrored
    assert res["train_variables"] == ["MirroredVariable"], res
    # One SGD step from the same weights: the same update up to noise.
    assert 0.95 < res["update_norm_ratio"] < 1.05, res
    assert res["update_cosine"] > 0.95, res
    # Trajectories then differ only by the replicas' sampling noise. Stated
    # tolerance: final validation -ELBO within 15% of what the single-device
    # run gained after its first epoch (the default calibrated Gaussian's
    # -ELBO is negative, so a fraction of the loss itself means nothing).
    start, single, mirrored = (res["single"][0], res["single"][-1],
                               res["mirrored"][-1])
    gained = start - single
    print(f"final val loss single {single:.1f}, mirrored {mirrored:.1f}, "
          f"start {start:.1f}")
    assert gained > 0, res
    assert abs(single - mirrored) <= 0.15 * gained, res
    assert res["mirrored"][0] - mirrored > 0.5 * gained, res  # it did train


def _final_val_loss(stdout: str) -> float:
    return float(re.search(r"Final validation loss (\S+),", stdout).group(1))


def test_multiworker_without_tf_config_is_a_clear_error(monkeypatch,
                                                        capsys):
    from vae_tf import cli

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cli.main(["train", "--strategy", "multiworker"]) == 2
    assert "needs the TF_CONFIG environment variable" in (
        capsys.readouterr().err)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_multiworker_two_local_processes(tmp_path, capsys):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 32, "num_examples": 2048, "batch_size": 32,
        "epochs": 4, "seed": 1,
    }))
    out, base = tmp_path / "run", tmp_path / "models"
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "vae_tf.cli", "train",
             "--config", str(config),
             "--out", str(out), "--strategy", "multiworker", "--export", "vae",
             "--export-base", str(base)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=900) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr[-6000:]
    chief_out, worker_out = results[0][0], results[1][0]
    # The workers train one model: their reduced logs agree exactly.
    chief_final, worker_final = (_final_val_loss(out_text)
                                 for out_text, _ in results)
    assert chief_final == worker_final
    # The one-process reference runs here (no TensorFlow start to pay).
    from vae_tf import cli

    capsys.readouterr()
    assert cli.main(["train", "--config", str(config), "--out",
                     str(tmp_path / "single")]) == 0
    single_final = _final_val_loss(capsys.readouterr().out)
    first_val = float(re.search(r"val_loss: (\S+)", chief_out).group(1))
    print(f"final validation loss: 2 workers {chief_final:.2f}, 1 process "
          f"{single_final:.2f} (2 workers after epoch 1: {first_val:.2f})")
    # The same global batch and steps: the same descent up to sampling
    # noise (stated tolerance: 10% of what the run gained after epoch 1).
    gained = first_val - chief_final
    assert gained > 0
    assert abs(chief_final - single_final) <= 0.10 * gained
    assert "Wrote" in chief_out and "exported version 1" in chief_out
    assert "Non-chief worker: wrote nothing." in worker_out
    assert "exported" not in worker_out
    assert "Epoch 4/4" in chief_out  # 4 epochs x 64 global steps = 256 steps
    assert (out / "model.keras").is_file()
    assert sorted(os.listdir(base)) == ["vae_decoder", "vae_encoder"]
    assert os.listdir(base / "vae_decoder") == ["1"]
    assert not (out / "backup").exists()


def test_multiworker_training_refuses_an_untested_keras(monkeypatch):
    import keras
    from keras.src.backend.tensorflow import trainer

    from vae_tf.training import multiworker_fixes

    original = trainer.reduce_per_replica
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert multiworker_fixes.needed()  # Keras 3.15 on these machines
    with multiworker_fixes.fit_fixes(model):
        assert trainer.reduce_per_replica is not original
        assert "_maybe_symbolic_build" in vars(model)
    assert trainer.reduce_per_replica is original  # restored
    assert "_maybe_symbolic_build" not in vars(model)

    later = (multiworker_fixes.LAST_BROKEN[0],
             multiworker_fixes.LAST_BROKEN[1] + 1)
    monkeypatch.setattr(multiworker_fixes, "keras_version", lambda: later)
    assert not multiworker_fixes.needed()
    # Unpatched, a newer Keras may fail mid-fit or not: it is refused up
    # front with the pin to install, and nothing is patched.
    with pytest.raises(multiworker_fixes.UnsupportedKerasError,
                       match=r"verified on Keras 3.0-3.15.*untested.*"
                             r"keras>=3.15,<3.16"):
        with multiworker_fixes.fit_fixes(model):
            pass
    assert trainer.reduce_per_replica is original
    assert "_maybe_symbolic_build" not in vars(model)
    # Internals renamed on a Keras in range: refused the same way.
    monkeypatch.setattr(multiworker_fixes, "keras_version",
                        lambda: multiworker_fixes.LAST_BROKEN)
    monkeypatch.setattr(multiworker_fixes, "_trainer_module", lambda: object)
    with pytest.raises(multiworker_fixes.UnsupportedKerasError):
        multiworker_fixes.check_supported()
