"""The encoder or decoder in whatever form the caller has: a Keras model,
a loaded SavedModel (`tf.saved_model.load`, as exported by
`vae_tf.export`, a `tf.Module` with `signatures`) or the path of an
exported model (base path or version folder), as an `array -> array`
function with its input shape checked first.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Union

import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    import keras

# An encoder or decoder in any form the functions here accept: a Keras
# model, a loaded SavedModel (`tf.saved_model.load`, a `tf.Module` with
# `signatures`) or the path of an exported one.
ModelSource = Union["keras.Model", tf.Module, str, os.PathLike]


def _load_saved_model(path: str):
    from vae_tf.export.layout import resolve_version_dir

    folder = resolve_version_dir(path)
    if not os.path.isdir(os.path.join(folder, "variables")):
        raise FileNotFoundError(
            f"{folder} has no variables/ folder: the SavedModel is incomplete."
            " Export it again with `vae-tf export`."
        )
    try:
        return tf.saved_model.load(folder)
    except (OSError, ValueError, tf.errors.OpError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(f"Cannot load SavedModel {folder}: {first}") from None


def _check_input(x: np.ndarray, expected, what: str) -> np.ndarray:
    """Refuses arrays whose shape does not fit `expected` (None = any)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{what}: expected numbers, got dtype {x.dtype}.")
    expected = tuple(expected)
    if x.ndim != len(expected) or any(
        e is not None and e != d for e, d in zip(expected[1:], x.shape[1:])
    ):
        shape = ", ".join("batch" if e is None else str(e) for e in expected)
        raise ValueError(
            f"{what}: expected shape ({shape}). Received: {x.shape}"
        )
    return x.astype(np.float32)


def _signature_shape(signature, name: str):
    return tuple(signature.structured_input_signature[1][name].shape.as_list())


def _model_fn(model, input_name: str, output_name: str, what: str):
    """`array -> array` over a Keras model, loaded SavedModel or path.

    SavedModels run their `serving_default` signature (`input_name` ->
    `output_name`); Keras models take their first output when they have
    several. Inputs are checked against the model's shape first.
    """
    if isinstance(model, (str, os.PathLike)):
        model = _load_saved_model(os.fspath(model))
    if hasattr(model, "signatures"):
        signature = model.signatures["serving_default"]
        shape = _signature_shape(signature, input_name)

        def run(x):
            x = _check_input(x, shape, what)
            outputs = signature(**{input_name: tf.constant(x)})
            return outputs[output_name].numpy()

        return run
    shape = tuple(model.input_shape)

    def run_keras(x):
        out = model.predict(_check_input(x, shape, what), verbose=0,
                            batch_size=256)
        return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)

    return run_keras


def decoder_fn(decoder: ModelSource) -> Callable[[np.ndarray], np.ndarray]:
    """z `(n, K)` -> images `(n, H, W, C)` for any accepted decoder form.

    The returned function raises `ValueError` for a z of the wrong shape.
    """
    return _model_fn(decoder, "z", "image", "decoder input z")


def encoder_fn(encoder: ModelSource) -> Callable[[np.ndarray], np.ndarray]:
    """images -> posterior means `(n, K)` for any accepted encoder form.

    The returned function raises `ValueError` for images of the wrong shape.
    """
    return _model_fn(encoder, "image", "z_mean", "encoder input image")


def latent_dim_of(decoder: ModelSource) -> int:
    """Width of the decoder's input."""
    if isinstance(decoder, (str, os.PathLike)):
        decoder = _load_saved_model(os.fspath(decoder))
    if hasattr(decoder, "signatures"):
        spec = decoder.signatures["serving_default"].structured_input_signature
        return int(spec[1]["z"].shape[-1])
    return int(decoder.input_shape[-1])
