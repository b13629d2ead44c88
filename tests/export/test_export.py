import os
import threading

import numpy as np
import pytest
import tensorflow as tf

from vae_tf import cli
from vae_tf.export import (ExportError, export_run, validate_name, versions)
from vae_tf.export.assets import write_warmup
from vae_tf.export.check import graph_nodes
from vae_tf.runs import load_run

from repo import REPO  # noqa: E402


def test_layout_files_and_metadata(exported):
    result, base = exported
    assert result.version == 1
    assert sorted(os.listdir(base)) == ["faces_decoder", "faces_encoder"]
    for folder in (result.encoder_dir, result.decoder_dir):
        assert os.path.isfile(os.path.join(folder, "saved_model.pb"))
        assert os.path.isfile(
            os.path.join(folder, "variables", "variables.index"))
        extra = os.listdir(os.path.join(folder, "assets.extra"))
        assert {"tf_serving_warmup_requests", "vae_tf.json"} <= set(extra)
    import json
    meta = json.load(open(
        os.path.join(result.decoder_dir, "assets.extra", "vae_tf.json")))
    assert meta["config"]["latent_dim"] == 4
    assert {"vae_tf", "tensorflow", "keras"} <= set(meta["versions"])
    assert "val_loss" in meta["metrics"]
    assert meta["signatures"]["serving_default"]["outputs"]["image"][
        "shape"] == [None, 32, 32, 3]


def _ops(path):
    return {node.op for node in graph_nodes(path)}


def test_signatures_named_dynamic_batch_and_equal_to_keras(
        exported, trained_run):
    result, _ = exported
    config, models = load_run(trained_run)
    enc = tf.saved_model.load(result.encoder_dir)
    dec = tf.saved_model.load(result.decoder_dir)
    assert set(enc.signatures) == {"serving_default", "encode_sample"}
    assert set(dec.signatures) == {"serving_default", "sample"}
    for batch in (1, 1024):
        x = np.random.default_rng(batch).uniform(
            size=(batch, 32, 32, 3)).astype("float32")
        out = enc.signatures["serving_default"](image=tf.constant(x))
        assert set(out) == {"z_mean", "z_log_var"}
        keras_mean, keras_lv, _ = models.encoder.predict(
            x, verbose=0, batch_size=256)
        np.testing.assert_allclose(out["z_mean"], keras_mean, atol=1e-5)
        np.testing.assert_allclose(out["z_log_var"], keras_lv, atol=1e-5)
        image = dec.signatures["serving_default"](
            z=out["z_mean"])["image"].numpy()
        assert image.shape == (batch, 32, 32, 3)
        # probabilities, not logits
        assert image.min() >= 0 and image.max() <= 1
        np.testing.assert_allclose(
            image,
            models.decoder.predict(keras_mean, verbose=0, batch_size=256),
            atol=1e-5
        )
    x = tf.constant(np.full((3, 32, 32, 3), 0.5, np.float32))
    seeds = tf.constant([4, 5, 4], tf.int64)
    a = enc.signatures["encode_sample"](image=x, seed=seeds)
    b = enc.signatures["encode_sample"](image=x, seed=seeds)
    c = enc.signatures["encode_sample"](image=x, seed=seeds + 1)
    assert set(a) == {"z_mean", "z_log_var", "z"}
    np.testing.assert_array_equal(a["z"], b["z"])  # seeded posterior draws
    np.testing.assert_allclose(a["z"][0], a["z"][2], atol=1e-6)  # same seed
    assert not np.allclose(a["z"][0], a["z"][1])
    assert not np.allclose(a["z"], c["z"])
    sigma = np.exp(0.5 * a["z_log_var"].numpy())
    assert np.all(np.abs(a["z"] - a["z_mean"]) < 6 * sigma)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="one seed per image"):
        enc.signatures["encode_sample"](image=x, seed=seeds[:2])
    sample = dec.signatures["sample"]
    s1 = sample(seed=tf.constant([7, 8, 9, 10, 11], tf.int64))
    s2 = sample(seed=tf.constant([7, 8, 9, 10, 11], tf.int64))
    s3 = sample(seed=tf.constant([9], tf.int64))
    assert s1["image"].shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(s1["image"], s2["image"])
    np.testing.assert_allclose(s1["z"][2:3], s3["z"], atol=1e-6)
    assert not np.allclose(s1["z"][0], s1["z"][1])
    for path in (result.encoder_dir, result.decoder_dir):
        ops = _ops(path)
        assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    # The decoder's output layer is exported as a sub-pixel convolution
    # (vae_tf.export.serving_graph), equal to Keras' as checked above.
    assert "DepthToSpace" in _ops(result.decoder_dir)


def test_versions_increase_and_keep_prunes(trained_run, tmp_path):
    base = str(tmp_path / "models")
    first = export_run(trained_run, name="m", base=base)
    second = export_run(trained_run, name="m", base=base)
    assert (first.version, second.version) == (1, 2)
    assert versions(os.path.join(base, "m_encoder")) == [1, 2]
    third = export_run(trained_run, name="m", base=base, keep=1)
    assert third.version == 3
    for model in ("m_encoder", "m_decoder"):
        # no temp dirs left
        assert os.listdir(os.path.join(base, model)) == ["3"]


def test_reader_polling_the_base_never_sees_a_partial_version(
        trained_run, tmp_path):
    base = str(tmp_path / "polled")
    seen, bad, stop = set(), [], threading.Event()
    required = ("saved_model.pb", "variables/variables.index",
                "assets.extra/tf_serving_warmup_requests",
                "assets.extra/vae_tf.json")

    def scan():
        for model in ("p_encoder", "p_decoder"):
            folder = os.path.join(base, model)
            for v in versions(folder):
                seen.add((model, v))
                for name in required:
                    if not os.path.exists(os.path.join(folder, str(v), name)):
                        bad.append((model, v, name))

    def poll():
        while not stop.is_set():
            scan()

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        export_run(trained_run, name="p", base=base)
        export_run(trained_run, name="p", base=base)
    finally:
        stop.set()
        thread.join()
    scan()
    assert bad == []
    assert {("p_decoder", 1), ("p_decoder", 2)} <= seen


def test_200_polls_during_exports_only_see_loadable_versions(
        trained_run, tmp_path):
    """A reader polls the base path 200 times while three exports run and
    loads every version the moment it first appears."""
    base = str(tmp_path / "loaded")
    folder = os.path.join(base, "q_decoder")
    loaded, failures, polls = set(), [], [0]
    stop = threading.Event()

    def poll():
        while polls[0] < 200 and not stop.is_set():
            polls[0] += 1
            for v in versions(folder):
                if v in loaded:
                    continue
                try:
                    tf.saved_model.load(os.path.join(folder, str(v)))
                    loaded.add(v)
                except Exception as err:  # a partial version would land here
                    failures.append((v, repr(err)[:200]))
            stop.wait(0.03)

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        for _ in range(3):
            export_run(trained_run, name="q", base=base)
    finally:
        thread.join()
    assert failures == []
    assert polls[0] >= 100 and loaded  # it really polled while exporting


@pytest.mark.parametrize(
    "name", ["..", "../evil", "a/b", "", "/abs", "x..y", ".hidden"])
def test_invalid_names_are_refused(name):
    with pytest.raises(ExportError, match="Invalid export name"):
        validate_name(name)


def test_unwritable_base_is_a_clear_error(trained_run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="writable --base"):
        export_run(trained_run, name="vae", base=str(blocker / "sub"))


def test_cli_export_and_check_export(trained_run, tmp_path, capsys):
    """Exported under the name the shipped serving/models.config serves,
    both models pass every check under serving/'s files."""
    base = str(tmp_path / "cli_models")
    assert cli.main(["export", trained_run, "--base", base,
                     "--name", "faces"]) == 0
    assert "exported version 1" in capsys.readouterr().out
    for model in ("faces_decoder", "faces_encoder"):
        code = cli.main([
            "check-export", os.path.join(base, model),
            "--models-config", os.path.join(REPO, "serving", "models.config"),
            "--platform-config",
            os.path.join(REPO, "serving", "platform_config.txt"),
        ])
        out = capsys.readouterr().out
        assert code == 0, out
        for step in ("a.", "b.", "c.", "d.", "e.", "f.", "h.", "i."):
            assert f"ok   {step}" in out, (step, out)
        assert "platform config's session" in out  # (d) and (f) ran in it
        assert "SINGLE_THREADED_EXECUTOR" in out
    assert "vae_tf layers/models imported: none" in out


def test_check_export_fails_without_variables(exported, tmp_path, capsys):
    import shutil
    result, _ = exported
    broken = tmp_path / "broken" / "1"
    shutil.copytree(result.decoder_dir, broken)
    shutil.rmtree(broken / "variables")
    assert cli.main(["check-export", str(broken)]) == 1
    assert "no variables/" in capsys.readouterr().out


def test_check_export_reports_models_config_base_path_missing(
        exported, tmp_path):
    from vae_tf.export import check_models_config
    config = tmp_path / "models.config"
    config.write_text(
        'model_config_list { config { name: "ghost" base_path: "/models/ghost" '
        'model_platform: "tensorflow" } }'
    )
    check = check_models_config(str(config), exported[1])
    assert not check.ok and "ghost" in check.detail
    config.write_text("model_config_list { config { nme: 1 } }")
    assert not check_models_config(str(config), exported[1]).ok


def test_sample_signature_draws_from_the_stored_sampler(
        exported, trained_run, tmp_path):
    from vae_tf import generate
    from vae_tf.export import export_models
    from vae_tf.samplers import MixtureSampler
    from vae_tf.runs import run_sampler

    config, models = load_run(trained_run)
    # export_run bakes the run's sampler.json into the decoder.
    result, _ = exported
    stored = run_sampler(trained_run, config)
    assert stored.kind == "mixture"
    _, served_z = generate.sample_served(result.decoder_dir, 64, seed=3)
    np.testing.assert_allclose(served_z, stored.sample(64, 3), atol=1e-6)

    # A planted two-component mixture, exported and drawn through TF Serving's
    # signature, against NumPy draws from the same parameters.
    weights = np.array([0.7, 0.3])
    means = np.array([[4.0, 4.0, 0.0, 1.0], [-4.0, -4.0, 2.0, 0.0]])
    covs = np.array([np.diag([1.0, 0.5, 0.2, 2.0]), np.eye(4) * 0.3])
    covs[0, 0, 1] = covs[0, 1, 0] = 0.4
    planted = MixtureSampler(weights, means, covs)
    export = export_models(models, config, base=str(tmp_path),
                           sampler=planted)
    images, z = generate.sample_served(export.decoder_dir, 20000, seed=11)
    same_images, same_z = generate.sample(models.decoder, 20000, seed=11,
                                          sampler=planted)
    np.testing.assert_allclose(z, same_z, atol=1e-6)
    np.testing.assert_allclose(images[:256], same_images[:256], atol=1e-5)
    rng = np.random.default_rng(0)
    c = rng.choice(2, 20000, p=weights)
    numpy_z = means[c] + np.einsum(
        "nij,nj->ni", np.linalg.cholesky(covs)[c],
        rng.standard_normal((20000, 4))
    )
    for draws in (z, numpy_z):
        first = draws[:, 0] > 0
        assert first.mean() == pytest.approx(0.7, abs=0.015)
    for k, side in enumerate((z[:, 0] > 0, z[:, 0] <= 0)):
        numpy_side = numpy_z[:, 0] > 0 if k == 0 else numpy_z[:, 0] <= 0
        np.testing.assert_allclose(z[side].mean(0),
                                   numpy_z[numpy_side].mean(0), atol=0.06)
        np.testing.assert_allclose(np.cov(z[side].T),
                                   np.cov(numpy_z[numpy_side].T),
                                   atol=0.08)


def test_tflite_converts_serving_default_of_both_exports(exported):
    """The exports stay convertible (no flex ops): TFLite takes the
    `serving_default` signature of each, and matches the SavedModel."""
    result, _ = exported
    rng = np.random.default_rng(0)
    inputs = {
        result.encoder_dir: {"image": rng.uniform(size=(3, 32, 32, 3))},
        result.decoder_dir: {"z": rng.normal(size=(3, 4))},
    }
    for path, feed in inputs.items():
        feed = {k: v.astype(np.float32) for k, v in feed.items()}
        converter = tf.lite.TFLiteConverter.from_saved_model(
            path, signature_keys=["serving_default"])
        runner = tf.lite.Interpreter(
            model_content=converter.convert()
        ).get_signature_runner("serving_default")
        lite = runner(**feed)
        saved = tf.saved_model.load(path).signatures["serving_default"](
            **{k: tf.constant(v) for k, v in feed.items()})
        assert set(lite) == set(saved)
        for key in lite:
            np.testing.assert_allclose(lite[key], saved[key], atol=1e-5)


def test_warmup_records_are_the_same_bytes_in_every_process(tmp_path):
    """A request's inputs are a proto map, serialised in an order that
    changes between processes (upb seeds its hash per process; seen: two
    hashes over six runs) unless written with sorted keys, so bit-for-bit
    checks can compare the file. With 8 inputs an unsorted map comes out
    in key order once in 40,320 processes."""
    keys = [f"input_{c}" for c in "hgfedcba"]
    path = tmp_path / "warmup"
    write_warmup(str(path), "m", [("serving_default", {
        k: np.full((1, 2), i, np.float32) for i, k in enumerate(keys)})])
    record = path.read_bytes()
    offsets = [record.index(k.encode()) for k in sorted(keys)]
    assert offsets == sorted(offsets)


def test_two_exports_at_once_get_distinct_versions(trained_run, tmp_path):
    """Two exports to one base at once, `vae-tf export` and `export_run`:
    both complete, as versions 1 and 2 (the base's lock queues the
    version choice). And the API's export and check of a run need its
    model, not the trainer or the data sets: the `export_run` process
    imported no vae_tf.training or vae_tf.data module (one process serves
    both points: each TensorFlow start costs ~6 CPU-seconds)."""
    import subprocess
    import sys

    base = tmp_path / "sm"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    api = f"""
import sys
from vae_tf.export import check_export, export_run
result = export_run({trained_run!r}, name="twice", base={str(base)!r})
checks = check_export(result.decoder_dir)
assert all(c.ok for c in checks), [c.detail for c in checks if not c.ok]
print("LOADED", sorted(m for m in sys.modules
                       if m.startswith(("vae_tf.training", "vae_tf.data"))))
"""
    procs = [subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=REPO) for command in (
            [sys.executable, "-m", "vae_tf", "export", trained_run,
             "--name", "twice", "--base", str(base)],
            [sys.executable, "-c", api])]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [
        err[-1500:] for _, err in results]
    assert "LOADED []" in results[1][0], results[1][0]
    for part in ("encoder", "decoder"):
        assert versions(str(base / f"twice_{part}")) == [1, 2]
    assert sorted(os.listdir(base)) == ["twice_decoder", "twice_encoder"]
