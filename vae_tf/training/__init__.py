"""Training: `train(config, out_dir)`, what `vae-tf train` runs.

- `trainer`: data -> model -> `fit` -> run directory (`train`,
  `TrainResult`, the run's pictures);
- `run_samplers`: the samplers fitted to the training codes after
  training, and the choice among them;
- `distribute`: `tf.distribute` strategies and worker roles
  (`STRATEGIES`);
- `multiworker_fixes`: version-guarded work-arounds for Keras' `fit`
  under `MultiWorkerMirroredStrategy` (keras-team/keras#20585);
- `summaries`: TensorBoard images, code histograms and the projector.

Names are imported on first use (PEP 562).
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "MAX_SAMPLER_CODES": "vae_tf.training.run_samplers",
    "STRATEGIES": "vae_tf.training.distribute",
    "TrainResult": "vae_tf.training.trainer",
    "TrainingDivergedError": "vae_tf.training.trainer",
    "train": "vae_tf.training.trainer",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vae_tf.training", _EXPORTS, globals())
