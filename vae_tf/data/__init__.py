"""Data sets (procedural `faces` and `shapes`, Fashion-MNIST, folders,
`.npz`, TFRecord shards) and their `tf.data` pipelines.

The names below are imported on first use (PEP 562), so that reading the
data set names (`DATA_NAMES`, `SPLITS`) does not load TensorFlow.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "DATA_NAMES": "vae_tf.data.registry",
    "DataError": "vae_tf.data.errors",
    "DataNotFoundError": "vae_tf.data.errors",
    "DataSet": "vae_tf.data.types",
    "SPLITS": "vae_tf.data.types",
    "Split": "vae_tf.data.types",
    "load_data": "vae_tf.data.registry",
    "make_dataset": "vae_tf.data.pipeline",
    "make_training_dataset": "vae_tf.data.pipeline",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
