"""vae_tf: variational autoencoders on Keras 3 and TensorFlow.

Importing the package registers its Keras objects (`Sampling`,
`KLDivergence`, `ReconstructionLoss`, `ReconstructionMetric`), so
`keras.saving.load_model("model.keras")` works in safe mode.
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ INFO lines (CUDA probing on CPU-only machines) drown the
# CLI's output; keep warnings and errors. A value set by the user wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from vae_tf.config import ConfigError, VAEConfig
from vae_tf.data import DataError, DataNotFoundError, load_data, make_dataset
from vae_tf.gaussian import kl_standard_normal
from vae_tf.layers import KLDivergence, Sampling, SoftClip
from vae_tf.losses import (
    ReconstructionLoss,
    ReconstructionMetric,
    negative_log_likelihood,
)
from vae_tf.models import VAEModels, build_vae, compile_vae, split_vae
from vae_tf.schedules import CapacitySchedule, CyclicalBeta, LinearBetaWarmup
from vae_tf.training import TrainResult, load_run, train

__all__ = [
    "CapacitySchedule",
    "ConfigError",
    "CyclicalBeta",
    "DataError",
    "DataNotFoundError",
    "KLDivergence",
    "LinearBetaWarmup",
    "ReconstructionLoss",
    "ReconstructionMetric",
    "Sampling",
    "SoftClip",
    "TrainResult",
    "VAEConfig",
    "VAEModels",
    "build_vae",
    "compile_vae",
    "kl_standard_normal",
    "load_data",
    "load_run",
    "make_dataset",
    "negative_log_likelihood",
    "split_vae",
    "train",
]
