"""Runs: the directory `vae-tf train` writes, and the finished runs that
ship with vae_tf.

- `directory`: the run directory's one owner: every file name and path
  (`RunPaths`), create/resume/refuse, safe-mode loading, the run's data
  and splits, and `Run`, a finished run;
- `history`: `history.csv` read as columns, trimmed at a resume;
- `backup_copies`: the two copies of an interrupted run's backup, and
  which one resumes (checked without TensorFlow);
- `lock`: one writer per folder (a run directory, an export base), an
  advisory lock;
- `presets`: pretrained runs in `saved_models/` (`load_pretrained`,
  `--pretrained NAME`), TensorFlow-free to list.

Names are imported on first use (PEP 562), so `vae_tf.runs.presets` and
the file names load without TensorFlow.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_DIRECTORY = (
    "BACKUP_DIR", "BEST_MODEL_FILE", "CONFIG_FILE", "HISTORY_FILE",
    "LATENT_SCATTER_FILE", "LOGS_DIR", "LOSS_CURVES_FILE", "MODEL_FILE",
    "ModelLoadError", "RECONSTRUCTIONS_FILE", "RESUMABLE_CHANGES",
    "RUNS_ROOT", "Run", "RunExistsError", "RunPaths", "SAMPLER_FILE",
    "SAMPLES_FILE", "SPLIT_SEEDS", "default_run_dir",
    "evaluation_images", "load_model", "load_run", "prepare_run_dir",
    "record_path", "run_data", "run_sampler", "save_model", "split_images",
)
_EXPORTS = {name: "vae_tf.runs.directory" for name in _DIRECTORY}
_EXPORTS.update({name: "vae_tf.runs.history" for name in (
    "read_history", "trim_history")})
_EXPORTS.update({name: "vae_tf.runs.backup_copies" for name in (
    "BackupDamagedError", "backup_epoch")})
_EXPORTS.update({name: "vae_tf.runs.lock" for name in (
    "DirectoryLock", "LOCK_FILE", "RunInUseError")})
_EXPORTS.update({name: "vae_tf.runs.presets" for name in (
    "DEFAULT_PRESET", "PRESETS", "load_pretrained", "preset_dir")})

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
