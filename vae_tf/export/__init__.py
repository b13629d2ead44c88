"""Export: the trained encoder and decoder as two SavedModels laid out for
TensorFlow Serving, and the checks that they load as servers load them.

- `layout`: `BASE/NAME_encoder|NAME_decoder/<version>/`, versions, atomic
  version writes, pruning (plain `os`, no TensorFlow);
- `archives`: the `ExportArchive` signatures (`serving_default`,
  `encode_sample`, `sample`) with named inputs and outputs;
- `finite_inputs`: every signature refuses NaN and infinite inputs;
- `serving_graph`: the exported decoder graph (its output layer as a
  sub-pixel convolution, same outputs);
- `assets`: `assets.extra/` (warmup records, `vae_tf.json`, reference
  outputs);
- `exporter`: `export_models` / `export_run`;
- `tflite`: the decoder's `serving_default` as `model.tflite`;
- `check`: `check_export` (a-h, see there);
- `platform_config`: TF Serving's `--platform_config_file` (session
  threads/executor, batching, warmup) read as the server reads it, and
  written for a machine's cores (`vae-tf platform-config`);
- `serving_protos`: its messages, compiled from tensorflow/serving's
  `.proto` files (`tools/compile_serving_protos.py`);
- `batching`: TF Serving's batching session rules (NumPy), which
  `check` and the tests' stand-in servers apply;
- `predict_checks`: TF Serving's checks of a Predict request's input
  names and dtypes, for the stand-ins;
- `fresh_load`: the check's loads in a process without vae_tf's layers,
  `python -m vae_tf.export.fresh_load VERSION_DIR`.

Names are imported on first use (PEP 562), so `python -m
vae_tf.export.fresh_load` and the TF-free `layout` pull in nothing else.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "ASSETS_EXTRA": "vae_tf.export.layout",
    "BatchingError": "vae_tf.export.batching",
    "BatchingRules": "vae_tf.export.batching",
    "Check": "vae_tf.export.check",
    "DECODER_SUFFIX": "vae_tf.export.layout",
    "ENCODER_SUFFIX": "vae_tf.export.layout",
    "ENCODE_SAMPLE": "vae_tf.export.archives",
    "ExportError": "vae_tf.export.layout",
    "ExportResult": "vae_tf.export.exporter",
    "PlatformConfigError": "vae_tf.export.platform_config",
    "METADATA_FILE": "vae_tf.export.layout",
    "REFERENCE_FILE": "vae_tf.export.layout",
    "SAMPLE": "vae_tf.export.archives",
    "SERVING_DEFAULT": "vae_tf.export.archives",
    "TFLITE_FILE": "vae_tf.export.layout",
    "WARMUP_FILE": "vae_tf.export.layout",
    "check_export": "vae_tf.export.check",
    "check_models_config": "vae_tf.export.check",
    "export_models": "vae_tf.export.exporter",
    "export_run": "vae_tf.export.exporter",
    "platform_config_text": "vae_tf.export.platform_config",
    "prune_versions": "vae_tf.export.layout",
    "read_platform_config": "vae_tf.export.platform_config",
    "read_final_metrics": "vae_tf.export.exporter",
    "resolve_version_dir": "vae_tf.export.layout",
    "tflite_decode": "vae_tf.export.tflite",
    "validate_name": "vae_tf.export.layout",
    "versions": "vae_tf.export.layout",
    "write_platform_config": "vae_tf.export.platform_config",
    "write_warmup": "vae_tf.export.assets",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("vae_tf.export", _EXPORTS, globals())
