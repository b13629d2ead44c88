"""Loads an exported version the ways its consumers do, in a process of
its own; `check_export` runs it as

    python -m vae_tf.export.fresh_load VERSION_DIR

and reads the one `RESULT {json}` line it prints. Only NumPy, TensorFlow
and the TF Serving protos are imported: none of vae_tf's layers, losses or
models (the package `__init__`s import nothing), so the SavedModel must
stand on its own, as it does for an app or TF Serving.

- eager: `tf.saved_model.load` and `serving_default` on the reference
  inputs (`assets.extra/vae_tf_reference.npz`), compared with the Keras
  model's outputs stored beside them;
- TF1 session: `tf.compat.v1.saved_model.loader.load` (TF Serving's C++
  path) runs the same signature's tensors;
- warmup: every request in `assets.extra/tf_serving_warmup_requests` is
  parsed and run through its signature.
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


def _tf1_session(path: str, feeds: dict, reference: dict) -> dict:
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        sig = meta.signature_def[SIGNATURE]
        feed = {sig.inputs[k].name: v for k, v in feeds.items()}
        fetch = {k: sig.outputs[k].name for k in sig.outputs}
        outputs = sess.run(fetch, feed)
    return {"tf1_max_abs_diff": _max_abs_diff(outputs, reference)}


def _warmup(loaded, path: str) -> dict:
    from tensorflow_serving.apis import prediction_log_pb2

    ran = 0
    records = tf.data.TFRecordDataset(
        os.path.join(path, ASSETS_EXTRA, WARMUP_FILE))
    for record in records:
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        fn = loaded.signatures[request.model_spec.signature_name or SIGNATURE]
        fn(**{k: tf.constant(tf.make_ndarray(v))
              for k, v in request.inputs.items()})
        ran += 1
    return {"warmup_requests_run": ran}


def check(path: str) -> dict:
    """The three loads of the version at `path`, as a JSON-ready dict;
    `vae_tf_modules` lists any vae_tf module imported beyond the launcher
    (it must stay empty)."""
    ref = dict(np.load(os.path.join(path, ASSETS_EXTRA, REFERENCE_FILE)))
    reference = {k.split("/", 1)[1]: v for k, v in ref.items()
                 if k.startswith(SIGNATURE + "/")}
    loaded = tf.saved_model.load(path)
    names = set(loaded.signatures[SIGNATURE].structured_input_signature[1])
    feeds = {k: v for k, v in reference.items() if k in names}
    result = _eager(loaded, feeds, reference)
    result.update(_tf1_session(path, feeds, reference))
    result.update(_warmup(loaded, path))
    result["vae_tf_modules"] = sorted(
        m for m in sys.modules
        if m.split(".")[0] == "vae_tf" and m not in LAUNCHER)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m vae_tf.export.fresh_load VERSION_DIR",
              file=sys.stderr)
        return 2
    print("RESULT " + json.dumps(check(argv[0])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
