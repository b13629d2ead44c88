"""Exports of a conditional model (issue 29): the decoder takes `z` and
one named input per factor, `sample` takes the factors beside the seeds,
the encoder takes them beside the image; every consumer path (fresh
`tf.saved_model.load`, TF1 session with the platform config, warmup,
batching, TFLite, ONNX, the REST and gRPC clients) handles them."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from serving_fakes import GrpcServer, RestServer
from vae_tf.client import GrpcClient, RestClient
from vae_tf.export import (REFERENCE_FILE, TFLITE_FILE, check_export,
                           tflite_decode)
from vae_tf.export.layout import ASSETS_EXTRA
from vae_tf.runs import load_run

from repo import ROOT

PLATFORM = str(ROOT / "serving" / "platform_config.txt")
FACTORS = ["glasses", "hair_color", "smile"]


@pytest.fixture(scope="module")
def keras_models(conditional_run):
    return load_run(str(conditional_run))


def _keras_decode(config_models, z, values):
    """The Keras decoder on `z` with raw factor `values`."""
    from vae_tf.data.conditions import encode_conditions

    config, models = config_models
    inputs = {"z": z, **encode_conditions(config.specs(), values)}
    return models.decoder.predict(inputs, verbose=0)


def _values(n, glasses=1, hair_color=3, smile=0.5):
    return {"glasses": np.full(n, glasses, np.float32),
            "hair_color": np.full(n, hair_color, np.float32),
            "smile": np.full(n, smile, np.float32)}


def _signature(version_dir, name="serving_default"):
    return tf.saved_model.load(version_dir).signatures[name]


def test_signatures_take_one_named_input_per_factor(conditional_export):
    result, _ = conditional_export
    inputs = {}
    for model, sig in (("decoder", "serving_default"), ("decoder", "sample"),
                       ("encoder", "serving_default"),
                       ("encoder", "encode_sample")):
        fn = _signature(getattr(result, f"{model}_dir"), sig)
        specs = fn.structured_input_signature[1]
        inputs[model, sig] = sorted(specs)
        for factor in FACTORS:
            assert specs[factor].dtype == tf.float32
            assert specs[factor].shape.as_list() == [None]
    assert inputs["decoder", "serving_default"] == sorted(FACTORS + ["z"])
    assert inputs["decoder", "sample"] == sorted(FACTORS + ["seed"])
    assert inputs["encoder", "serving_default"] == sorted(FACTORS + ["image"])
    assert inputs["encoder", "encode_sample"] == sorted(
        FACTORS + ["image", "seed"])


@pytest.mark.parametrize("model", ["decoder", "encoder"])
def test_check_export_passes_every_check(conditional_export, model):
    """Fresh load and TF1 session (platform config, batching) against
    the Keras model (1e-5), warmup replayed, TFLite (decoder)."""
    result, _ = conditional_export
    checks = {c.name: c for c in check_export(
        getattr(result, f"{model}_dir"), platform_config=PLATFORM)}
    failed = {k: c.detail for k, c in checks.items()
              if not c.ok and not k.startswith("e.")}
    assert not failed
    for name in ("c. fresh tf.saved_model.load", "d. TF1 session load",
                 "f. warmup requests", "i. batching"):
        assert checks[name].ok, name
    assert ("g. model.tflite" in checks) == (model == "decoder")
    with np.load(os.path.join(getattr(result, f"{model}_dir"), ASSETS_EXTRA,
                              REFERENCE_FILE)) as ref:
        # The reference covers every class value of each class factor.
        assert set(ref["serving_default/hair_color"]) == {0, 1, 2, 3}
        assert set(ref["serving_default/glasses"]) == {0, 1}


def test_the_served_decoder_follows_the_condition(conditional_export,
                                                  keras_models):
    result, _ = conditional_export
    decode = _signature(result.decoder_dir)
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    images = {}
    for key, values in (("a", _values(5, 0, 0)), ("b", _values(5, 1, 3))):
        images[key] = decode(z=tf.constant(z), **{
            k: tf.constant(v) for k, v in values.items()})["image"].numpy()
        np.testing.assert_allclose(
            images[key], _keras_decode(keras_models, z, values), atol=1e-5)
    assert np.abs(images["a"] - images["b"]).max() > 1e-3


def test_sample_takes_the_factors_one_value_per_seed(
        conditional_export, conditional_run, keras_models):
    """`sample` draws the run's sampler for each seed under the factors
    (as `vae-tf sample --set` does) and decodes under them."""
    from vae_tf.runs import run_sampler

    result, _ = conditional_export
    seeds = np.arange(6, dtype=np.int64)
    out = _signature(result.decoder_dir, "sample")(
        seed=tf.constant(seeds),
        **{k: tf.constant(v) for k, v in _values(6).items()})
    from vae_tf.data.conditions import encode_conditions

    config = keras_models[0]
    # The run's mixture draws follow the classes (samplers.conditional).
    sampler = run_sampler(str(conditional_run), config)
    assert set(sampler.condition_tables) == {"glasses", "hair_color"}
    drawn = sampler.sample(6, seeds=seeds, conditions=encode_conditions(
        config.specs(), _values(6)))
    np.testing.assert_allclose(out["z"].numpy(), drawn, atol=1e-6)
    np.testing.assert_allclose(
        out["image"].numpy(), _keras_decode(keras_models, drawn, _values(6)),
        atol=1e-5)


def test_bad_class_values_fail_or_come_back_nan(conditional_export):
    """A hair colour that does not exist: the SavedModel refuses the
    request naming the factor; TFLite (which drops assertions) returns
    NaN for that row only."""
    result, _ = conditional_export
    z = np.zeros((2, 4), np.float32)
    values = _values(2)
    values["hair_color"] = np.array([3, 7], np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"hair_color takes one of the values \[0, 1, "
                             r"2, 3\]"):
        _signature(result.decoder_dir)(
            z=tf.constant(z), **{k: tf.constant(v)
                                 for k, v in values.items()})
    model = open(os.path.join(result.decoder_dir, TFLITE_FILE), "rb").read()
    images = tflite_decode(model, z, **values)
    assert not np.isnan(images[0]).any() and np.isnan(images[1]).all()
    # A continuous factor that is NaN: refused the same way, NaN in TFLite.
    values = _values(2)
    values["smile"][1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"smile holds NaN or infinite values"):
        _signature(result.decoder_dir)(
            z=tf.constant(z), **{k: tf.constant(v)
                                 for k, v in values.items()})
    images = tflite_decode(model, z, **values)
    assert not np.isnan(images[0]).any() and np.isnan(images[1]).all()


def test_onnx_conversion_of_the_conditional_decoder(conditional_export,
                                                    tmp_path):
    pytest.importorskip("tf2onnx", reason="install the [onnx] extra")
    ort = pytest.importorskip("onnxruntime",
                              reason="install the [onnx] extra")
    result, _ = conditional_export
    onnx_path = tmp_path / "decoder.onnx"
    done = subprocess.run(
        [sys.executable, "-m", "tf2onnx.convert", "--saved-model",
         result.decoder_dir, "--signature_def", "serving_default",
         "--output", str(onnx_path)], capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    z = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    inputs = {"z": z, **_values(3, 0, 2, -0.3)}
    expected = _signature(result.decoder_dir)(
        **{k: tf.constant(v) for k, v in inputs.items()})["image"].numpy()
    session = ort.InferenceSession(str(onnx_path))
    assert sorted(i.name for i in session.get_inputs()) == sorted(inputs)
    got = session.run(["image"], inputs)[0]
    assert np.abs(got - expected).max() <= 1e-5


@pytest.mark.parametrize("kind", ["rest", "grpc"])
def test_clients_send_the_condition(conditional_export, keras_models, kind):
    result, base = conditional_export
    z = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    conditions = {"glasses": 1, "hair_color": 2, "smile": 0.0}
    server_type = RestServer if kind == "rest" else GrpcServer
    with server_type(base) as server:
        if kind == "rest":
            client = RestClient("127.0.0.1", server.port, timeout=30)
        else:
            client = GrpcClient("127.0.0.1", server.port, timeout=30)
        images = client.decode(z, model="cond_decoder",
                               conditions=conditions)
        np.testing.assert_allclose(
            images, _keras_decode(keras_models, z, _values(3, 1, 2, 0.0)),
            atol=1e-5)
        codes = client.encode(images, model="cond_encoder",
                              conditions=conditions)
        assert codes["z_mean"].shape == (3, 4)
        drawn = client.sample(4, seed=5, model="cond_decoder",
                              conditions=conditions)
        assert drawn.shape == (4, 32, 32, 3)
        with pytest.raises(ValueError, match="one value, or one per row"):
            client.decode(z, model="cond_decoder",
                          conditions={**conditions, "glasses": [0, 1]})
        if kind == "grpc":
            client.close()


def test_sample_command_draws_from_the_exported_conditional_decoder(
        conditional_export, tmp_path, capsys):
    """`vae-tf sample --decoder D --set ...` runs D's own sample
    signature under the values; without --set it names the factors."""
    from grids import tiles
    from vae_tf import cli

    result, _ = conditional_export
    out = tmp_path / "s.png"
    assert cli.main(["sample", "--decoder", result.decoder_dir, "--set",
                     "glasses=1,hair_color=red,smile=0.5", "--n", "4",
                     "--seed", "2", "--out", str(out)]) == 0
    served = _signature(result.decoder_dir, "sample")(
        seed=tf.constant(np.arange(2, 6, dtype=np.int64)),
        **{k: tf.constant(v) for k, v in _values(4, 1, 3, 0.5).items()})
    expected = np.round(served["image"].numpy() * 255)
    np.testing.assert_allclose(tiles(out, 1, 4), expected, atol=1)
    assert cli.main(["sample", "--decoder", result.decoder_dir]) == 2
    assert "conditioned on glasses, hair_color, smile: give every draw's " \
           "values with --set" in capsys.readouterr().err
