"""vae_tf: variational autoencoders on Keras 3 and TensorFlow.

`import vae_tf` is cheap and has no side effects: the public names below
are imported on first use (PEP 562), so an app that only calls a TF
Serving model (`vae_tf.client`) never loads TensorFlow, and the package
sets no environment variables (the `vae-tf` command quiets TensorFlow's C++
logs itself).

vae_tf's Keras objects (`Sampling`, `KLDivergence`, `SoftClip`,
`ReconstructionLoss`, ...) are registered when their modules are imported:
load a saved `model.keras` with `vae_tf.load_model(path)` (safe mode, clear
errors), or `import vae_tf.layers, vae_tf.losses,
vae_tf.schedules.learning_rate` (the layers, the losses, the one-cycle
learning rate of a compiled model) before calling
`keras.saving.load_model` yourself.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "CapacitySchedule": "vae_tf.schedules",
    "ConfigError": "vae_tf.config",
    "CyclicalBeta": "vae_tf.schedules",
    "DataError": "vae_tf.data",
    "DataNotFoundError": "vae_tf.data",
    "KLDivergence": "vae_tf.layers",
    "LinearBetaWarmup": "vae_tf.schedules",
    "ReconstructionLoss": "vae_tf.losses",
    "ReconstructionMetric": "vae_tf.losses",
    "Sampling": "vae_tf.layers",
    "SoftClip": "vae_tf.layers",
    "TotalCorrelation": "vae_tf.layers",
    "TrainResult": "vae_tf.training.trainer",
    "VAEConfig": "vae_tf.config",
    "VAEModels": "vae_tf.models",
    "build_vae": "vae_tf.models",
    "compile_vae": "vae_tf.models",
    "kl_standard_normal": "vae_tf.distributions.gaussian",
    "load_data": "vae_tf.data",
    "load_model": "vae_tf.runs",
    "load_pretrained": "vae_tf.runs.presets",
    "load_run": "vae_tf.runs",
    "make_dataset": "vae_tf.data",
    "negative_log_likelihood": "vae_tf.distributions.likelihoods",
    "reconstruct_images": "vae_tf.generate",
    "sample": "vae_tf.generate",
    "split_vae": "vae_tf.models",
    "train": "vae_tf.training.trainer",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("vae_tf", _EXPORTS, globals())
