"""Outside consumers of the exports: a TFLite decoder written by
`vae-tf export --tflite`, and ONNX conversions of both SavedModels with
tf2onnx (the `[onnx]` extra), each compared with the SavedModel."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from vae_tf.export import (REFERENCE_FILE, TFLITE_FILE, check_export,
                           export_run, tflite_decode)
from vae_tf.export.layout import ASSETS_EXTRA
from vae_tf.export.tflite import convert_decoder


@pytest.fixture(scope="module")
def tflite_export(trained_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("tflite")
    return export_run(trained_run, base=str(base), tflite=True)


def _served(version_dir, inputs):
    """The SavedModel's `serving_default` outputs as NumPy arrays."""
    fn = tf.saved_model.load(version_dir).signatures["serving_default"]
    return {k: v.numpy() for k, v in fn(**{
        k: tf.constant(v) for k, v in inputs.items()}).items()}


def test_tflite_decoder_matches_the_saved_model(tflite_export):
    path = os.path.join(tflite_export.decoder_dir, TFLITE_FILE)
    model = open(path, "rb").read()
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = _served(tflite_export.decoder_dir, {"z": z})["image"]
    got = tflite_decode(model, z)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5
    assert tflite_decode(model, z[:1]).shape == expected[:1].shape
    assert not os.path.exists(os.path.join(tflite_export.encoder_dir,
                                           TFLITE_FILE))
    # TFLite drops the SavedModel's finite-input assertion: a row with a
    # NaN or infinity comes back NaN, never as a plausible image; the
    # other rows are unchanged.
    z[1, 2], z[3, 0] = np.nan, -np.inf
    got = tflite_decode(model, z)
    assert np.isnan(got[[1, 3]]).all()
    assert np.abs(got[[0, 2, 4]] - expected[[0, 2, 4]]).max() <= 1e-5


@pytest.mark.parametrize("which,name", [("decoder", "z"),
                                        ("encoder", "image")])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_the_saved_model_refuses_non_finite_inputs(exported, which, name,
                                                   bad):
    """TF Serving checks names and dtypes, never values: the signature
    itself fails a request with a NaN or infinity, naming the input."""
    result, _ = exported
    version_dir = getattr(result, f"{which}_dir")
    with np.load(os.path.join(version_dir, ASSETS_EXTRA,
                              REFERENCE_FILE)) as ref:
        value = ref[f"serving_default/{name}"][:3].copy()
    _served(version_dir, {name: value})  # finite: answered
    value.reshape(3, -1)[1, -1] = bad
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"{name} holds NaN or infinite values"):
        _served(version_dir, {name: value})


# slow (25 s): the TFLite conversion itself stays in the default suite
# (tests/export/test_export.py::test_tflite_converts_serving_default_of_both_exports).
@pytest.mark.slow
def test_check_export_checks_the_tflite_file(tflite_export, tmp_path):
    checks = {c.name: c for c in check_export(tflite_export.decoder_dir)}
    assert checks["g. model.tflite"].ok, checks["g. model.tflite"].detail
    # A TFLite file that is not the decoder fails check g.
    import shutil
    copy = tmp_path / "1"
    shutil.copytree(tflite_export.decoder_dir, copy)
    z = np.zeros((1, 4), np.float32)
    module = tf.Module()
    module.f = tf.function(lambda z: {"image": tf.zeros(
        (tf.shape(z)[0], 32, 32, 3)) + z[:, :1, None, None]})
    spec = tf.TensorSpec((None, 4), tf.float32, "z")
    tf.saved_model.save(module, str(tmp_path / "other"), signatures={
        "serving_default": module.f.get_concrete_function(spec)})
    wrong = convert_decoder(str(tmp_path / "other"))
    (copy / TFLITE_FILE).write_bytes(wrong)
    assert tflite_decode(wrong, z).shape == (1, 32, 32, 3)
    checks = {c.name: c for c in check_export(str(copy))}
    assert not checks["g. model.tflite"].ok


@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_onnx_conversion_matches_the_saved_model(exported, tmp_path, which):
    pytest.importorskip("tf2onnx", reason="install the [onnx] extra")
    ort = pytest.importorskip("onnxruntime",
                              reason="install the [onnx] extra")
    result, _ = exported
    version_dir = getattr(result, f"{which}_dir")
    onnx_path = tmp_path / f"{which}.onnx"
    done = subprocess.run(
        [sys.executable, "-m", "tf2onnx.convert", "--saved-model",
         version_dir, "--signature_def", "serving_default", "--output",
         str(onnx_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(os.path.join(version_dir, ASSETS_EXTRA,
                              REFERENCE_FILE)) as ref:
        name = "image" if which == "encoder" else "z"
        inputs = {name: ref[f"serving_default/{name}"]}
    expected = _served(version_dir, inputs)
    session = ort.InferenceSession(str(onnx_path))
    outputs = [o.name for o in session.get_outputs()]
    assert sorted(outputs) == sorted(expected)
    got = dict(zip(outputs, session.run(outputs, inputs)))
    for key in expected:
        assert np.abs(got[key] - expected[key]).max() <= 1e-5, key
    # ONNX drops the finite-input assertion: a NaN row comes back NaN.
    inputs[name][2].flat[0] = np.nan
    got = dict(zip(outputs, session.run(outputs, inputs)))
    for key in expected:
        assert np.isnan(got[key][2]).all(), key
        assert np.abs(np.delete(got[key], 2, axis=0)
                      - np.delete(expected[key], 2, axis=0)).max() <= 1e-5
