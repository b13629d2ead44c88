"""The decoder as a TensorFlow Lite model (z -> image), for phones and
edge devices.

Only the `serving_default` signature converts: the `sample` signature's
stateless random ops are not TFLite builtins, so converting the whole
SavedModel fails. `write_tflite` converts `serving_default` of an exported
decoder into `model.tflite` inside its version folder (the name TF
Serving's `--prefer_tflite_model` looks for), after checking it against
the SavedModel's reference outputs; `tflite_decode` runs such a file.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from vae_tf._internal import io_utils
from vae_tf.export.archives import SERVING_DEFAULT
from vae_tf.export.layout import (ASSETS_EXTRA, REFERENCE_FILE,
                                  TFLITE_FILE, ExportError)


def convert_decoder(saved_model_dir: str) -> bytes:
    """The flatbuffer of the decoder SavedModel's `serving_default`."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=[SERVING_DEFAULT])
    return converter.convert()


def _interpreter(model: bytes):
    """LiteRT's interpreter where installed (`ai-edge-litert`), else
    `tf.lite.Interpreter` (deprecated in TF 2.20+ but still shipped)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is deprecated",
                                    category=UserWarning)
            return tf.lite.Interpreter(model_content=model)
    return Interpreter(model_content=model)


def tflite_run(model: bytes, inputs: dict) -> dict:
    """Runs a converted decoder's `serving_default` on named `inputs`
    (`z`, and a conditional model's factors) -> `{"image": ...}`."""
    runner = _interpreter(model).get_signature_runner(SERVING_DEFAULT)
    expected = sorted(runner.get_input_details())
    if sorted(inputs) != expected:
        raise ValueError(f"The TFLite decoder takes inputs {expected}. "
                         f"Received: {sorted(inputs)}")
    return runner(**inputs)


def tflite_decode(model: bytes, z: np.ndarray, **factors) -> np.ndarray:
    """Runs a converted decoder: `z` `(n, latent_dim)` (and a conditional
    model's factors, `(n,)` each) -> images `(n, H, W, C)`, float32."""
    return tflite_run(model, {"z": np.asarray(z, np.float32),
                              **factors})["image"]


def reference_diff(model: bytes, saved_model_dir: str) -> float:
    """Max abs difference of `model` from the export's reference outputs
    (the Keras decoder on the reference draws and conditions)."""
    prefix = f"{SERVING_DEFAULT}/"
    with np.load(os.path.join(saved_model_dir, ASSETS_EXTRA,
                              REFERENCE_FILE)) as ref:
        values = {k[len(prefix):]: ref[k] for k in ref.files
                  if k.startswith(prefix)}
    image = values.pop("image")
    runner = _interpreter(model).get_signature_runner(SERVING_DEFAULT)
    inputs = {k: values[k] for k in runner.get_input_details()}
    return float(np.abs(tflite_run(model, inputs)["image"] - image).max())


def write_tflite(saved_model_dir: str, atol: float = 1e-5) -> float:
    """Converts the decoder at `saved_model_dir` (assets written) into
    `saved_model_dir/model.tflite`; returns its max abs difference from
    the reference outputs.

    Raises:
        ExportError: the conversion fails, or differs by more than `atol`.
    """
    try:
        model = convert_decoder(saved_model_dir)
    except Exception as err:  # the converter raises many kinds
        raise ExportError(
            f"TFLite conversion of {saved_model_dir} failed: {err}"
        ) from None
    diff = reference_diff(model, saved_model_dir)
    if not diff <= atol:
        raise ExportError(
            f"The TFLite decoder differs from the SavedModel by {diff:.3g} "
            f"(> {atol:g}); not writing {TFLITE_FILE}.")
    io_utils.atomic_write_bytes(os.path.join(saved_model_dir, TFLITE_FILE),
                                model)
    return diff
