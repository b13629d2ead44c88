"""Data sets (procedural `faces` and `shapes`, Fashion-MNIST, folders,
`.npz`) and their `tf.data` pipelines."""

from vae_tf.data.errors import DataError, DataNotFoundError
from vae_tf.data.pipeline import make_dataset, make_training_dataset
from vae_tf.data.registry import DATA_NAMES, DataSet, Split, load_data

__all__ = [
    "DATA_NAMES", "DataError", "DataNotFoundError", "DataSet", "Split",
    "load_data", "make_dataset", "make_training_dataset",
]
