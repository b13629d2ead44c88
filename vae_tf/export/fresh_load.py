"""Loads an exported version the ways its consumers do, in a process of
its own; `check_export` runs it as

    python -m vae_tf.export.fresh_load VERSION_DIR [SESSION_CONFIG_HEX]

and reads the one `RESULT {json}` line it prints. Only NumPy, TensorFlow
and the TF Serving protos are imported: none of vae_tf's layers, losses or
models (the package `__init__`s import nothing), so the SavedModel must
stand on its own, as it does for an app or TF Serving.

- eager: `tf.saved_model.load` and `serving_default` on the reference
  inputs (`assets.extra/vae_tf_reference.npz`), compared with the Keras
  model's outputs stored beside them;
- TF1 session: `tf.compat.v1.saved_model.loader.load` (TF Serving's C++
  path) runs the same signature's tensors, in a session with the
  serialized `tf.compat.v1.ConfigProto` given as hex (the platform
  config's `session_config`: its executor applies; its thread counts do
  not, as the eager load above created the process's pools), or the
  default one;
- warmup: every request in `assets.extra/tf_serving_warmup_requests` is
  parsed and run through its signature, eagerly and in that session (the
  server replays them through its session at load).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import tensorflow as tf

# layout is plain os: importing it pulls in neither Keras nor the
# exporter.
from vae_tf.export.layout import ASSETS_EXTRA, REFERENCE_FILE, WARMUP_FILE

SIGNATURE = "serving_default"
# The only vae_tf modules this process may import: the lazy packages that
# `python -m` passes through, the TF-free layout, and this module.
LAUNCHER = ("vae_tf", "vae_tf._lazy", "vae_tf.export",
            "vae_tf.export.layout", "vae_tf.export.fresh_load", "__main__")


def _max_abs_diff(outputs: dict, reference: dict) -> float:
    return max(float(np.max(np.abs(outputs[k] - reference[k])))
               for k in outputs)


def _eager(loaded, feeds: dict, reference: dict) -> dict:
    fn = loaded.signatures[SIGNATURE]
    outputs = {k: v.numpy() for k, v in fn(
        **{k: tf.constant(v) for k, v in feeds.items()}).items()}
    return {"eager_max_abs_diff": _max_abs_diff(outputs, reference),
            "outputs": sorted(outputs)}


def _session_run(sess, signature, feeds: dict) -> dict:
    feed = {signature.inputs[k].name: v for k, v in feeds.items()}
    fetch = {k: signature.outputs[k].name for k in signature.outputs}
    return sess.run(fetch, feed)


def _tf1_session(path: str, feeds: dict, reference: dict, warmup: list,
                 config=None) -> dict:
    with tf.Graph().as_default(), \
            tf.compat.v1.Session(config=config) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        outputs = _session_run(sess, meta.signature_def[SIGNATURE], feeds)
        for name, inputs in warmup:
            _session_run(sess, meta.signature_def[name], inputs)
    return {"tf1_max_abs_diff": _max_abs_diff(outputs, reference),
            "tf1_warmup_requests_run": len(warmup)}


def _warmup_requests(path: str):
    """Yields (signature name, {input: array}) per warmup record."""
    from tensorflow_serving.apis import prediction_log_pb2

    records = tf.data.TFRecordDataset(
        os.path.join(path, ASSETS_EXTRA, WARMUP_FILE))
    for record in records:
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        yield (request.model_spec.signature_name or SIGNATURE,
               {k: tf.make_ndarray(v) for k, v in request.inputs.items()})


def _first_cause(err: BaseException) -> str:
    """The earliest TensorFlow error in the chain, on one line (the
    loader's own ValueError hides e.g. a bad session config)."""
    while err.__context__ is not None:
        err = err.__context__
    message = getattr(err, "message", None) or str(err)
    return f"{type(err).__name__}: {message.strip().splitlines()[0]}"


def _warmup(loaded, warmup: list) -> dict:
    for name, inputs in warmup:
        loaded.signatures[name](**{k: tf.constant(v)
                                   for k, v in inputs.items()})
    return {"warmup_requests_run": len(warmup)}


def check(path: str, config=None) -> dict:
    """The three loads of the version at `path`, as a JSON-ready dict;
    `config`: the TF1 session's `tf.compat.v1.ConfigProto` (default
    None). `vae_tf_modules` lists any vae_tf module imported beyond the
    launcher (it must stay empty)."""
    ref = dict(np.load(os.path.join(path, ASSETS_EXTRA, REFERENCE_FILE)))
    reference = {k.split("/", 1)[1]: v for k, v in ref.items()
                 if k.startswith(SIGNATURE + "/")}
    loaded = tf.saved_model.load(path)
    names = set(loaded.signatures[SIGNATURE].structured_input_signature[1])
    feeds = {k: v for k, v in reference.items() if k in names}
    warmup = list(_warmup_requests(path))  # read here: tf.data needs eager
    result = _eager(loaded, feeds, reference)
    try:
        result.update(_tf1_session(path, feeds, reference, warmup, config))
    except (tf.errors.OpError, ValueError) as err:
        result["tf1_error"] = _first_cause(err)
    result.update(_warmup(loaded, warmup))
    result["vae_tf_modules"] = sorted(
        m for m in sys.modules
        if m.split(".")[0] == "vae_tf" and m not in LAUNCHER)
    return result


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m vae_tf.export.fresh_load VERSION_DIR "
              "[SESSION_CONFIG_HEX]", file=sys.stderr)
        return 2
    config = None
    if len(argv) == 2:
        config = tf.compat.v1.ConfigProto.FromString(bytes.fromhex(argv[1]))
    print("RESULT " + json.dumps(check(argv[0], config)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
