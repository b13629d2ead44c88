"""`assets.extra/` of an exported version: files TF Serving and our checks
read beside the SavedModel.

- `tf_serving_warmup_requests`: PredictionLog records TF Serving replays
  when it loads the version (so the first client request is not slow);
- `vae_tf.json`: the config, training metrics, package versions, sampler
  and signatures (names, dtypes, shapes);
- `vae_tf_reference.npz`: reference inputs and the Keras model's outputs,
  which `check_export` compares the SavedModel against.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from vae_tf import __version__
from vae_tf.config import VAEConfig
from vae_tf.export.archives import signature_specs
from vae_tf.export.layout import (ASSETS_EXTRA, METADATA_FILE,  # noqa: F401
                                  REFERENCE_FILE, WARMUP_FILE)


def metadata(config: VAEConfig, metrics: dict, name: str, version: int,
             sampler) -> dict:
    """What `vae_tf.json` records for both models of one export."""
    return {
        "name": name,
        "version": version,
        "config": config.to_dict(),
        "metrics": metrics,
        "versions": {
            "vae_tf": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "sampler": {
            "kind": sampler.kind,
            "num_components": getattr(sampler, "num_components", None),
        },
    }


def write_assets(path: str, served_name: str, reference: dict, warmup,
                 info: dict) -> None:
    """Writes the three files into `path/assets.extra/` of a SavedModel
    already written to `path`; `info` is `metadata(...)`."""
    extra = os.path.join(path, ASSETS_EXTRA)
    os.makedirs(extra, exist_ok=True)
    write_warmup(os.path.join(extra, WARMUP_FILE), served_name, warmup)
    np.savez(os.path.join(extra, REFERENCE_FILE), **reference)
    info = dict(info, model=served_name, signatures=signature_specs(path))
    with open(os.path.join(extra, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2, sort_keys=True)


def write_warmup(path: str, model_name: str, requests) -> None:
    """Writes PredictionLog records TF Serving replays when it loads.

    Args:
        requests: `(signature_name, {input_name: array})` pairs.
    """
    from tensorflow_serving.apis import (model_pb2, predict_pb2,
                                         prediction_log_pb2)

    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(
                    name=model_name, signature_name=signature
                )
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            # Sorted map keys: the same records give the same bytes in
            # every process (a request's `inputs` is a proto map).
            writer.write(log.SerializeToString(deterministic=True))
