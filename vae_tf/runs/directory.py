"""The run directory that `vae-tf train` writes: its one owner.

    RUN_DIR/config.json          the resolved `VAEConfig`
            model.keras          the trained VAE (loaded in safe mode)
            history.csv          one row per epoch, nats per image
            sampler.json         the run's latent sampler, fitted after
                                 training (sampler_<kind>.json: each
                                 one fitted, for --sampler KIND)
            reconstructions.png  validation images over reconstructions
            samples.png          32 draws of the run's sampler
            logs/                TensorBoard
            backup/              training state while unfinished
            ...                  the pictures and reports that `vae-tf
                                 sample|reconstruct|interpolate|traverse|
                                 edit|evaluate` write by default

This module knows those names and paths (`RunPaths`; no other module
joins a run directory with a file name); creates, resumes or refuses a
directory (`prepare_run_dir`, trimming the history, `runs.history`, to
the backup's epoch); saves and loads the model (safe mode, clear
errors); and derives a run's data and splits: the data set from the
config (`run_data`), and each split's images as the model sees them,
binarized for Bernoulli models with the fixed seed `config.seed +
SPLIT_SEEDS[split]` (`evaluation_images`, `split_images`), the same in
training, evaluation, pictures and export.
`Run` bundles a finished run for the commands that read one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from typing import TYPE_CHECKING, Optional

import keras
import numpy as np

from vae_tf._internal import io_utils
from vae_tf.runs.backup_copies import resume_epoch
from vae_tf.runs.history import read_history, trim_history
from vae_tf.config import ConfigError, VAEConfig
from vae_tf.models import VAEModels, in_precision, split_vae
from vae_tf._internal.pixels import as_float_images
from vae_tf._internal.progress import Verbosity
from vae_tf.samplers import PriorSampler, load_sampler

if TYPE_CHECKING:  # vae_tf.data is imported where data is loaded
    from vae_tf.data import DataSet

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
BEST_MODEL_FILE = "best.keras"  # the lowest val_loss (training.best_model)
HISTORY_FILE = "history.csv"
RECONSTRUCTIONS_FILE = "reconstructions.png"
SAMPLES_FILE = "samples.png"
SAMPLER_FILE = "sampler.json"
LOGS_DIR = "logs"
BACKUP_DIR = "backup"
LATENT_SCATTER_FILE = "latent_scatter.png"
LOSS_CURVES_FILE = "loss_curves.png"
# Where `vae-tf train` puts a run without --out.
RUNS_ROOT = "runs"
# Fields that may change when an interrupted run is resumed.
RESUMABLE_CHANGES = ("epochs",)
# Offsets from config.seed of each split's fixed binarization.
SPLIT_SEEDS = {"validation": 1, "test": 2, "train": 3}


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """Every file of the run directory `dir`: what training writes, and
    the default names of the pictures and reports read from a run."""

    dir: str

    def file(self, name: str) -> str:
        """`name` inside the run directory."""
        return os.path.join(self.dir, name)

    @property
    def config(self) -> str:
        return self.file(CONFIG_FILE)

    @property
    def model(self) -> str:
        return self.file(MODEL_FILE)

    @property
    def best_model(self) -> str:
        return self.file(BEST_MODEL_FILE)

    @property
    def history(self) -> str:
        return self.file(HISTORY_FILE)

    @property
    def sampler(self) -> str:
        return self.file(SAMPLER_FILE)

    def fitted_sampler(self, kind: str) -> str:
        """Where the fitted `mixture` / `flow` is kept, whichever the run
        chose."""
        return self.file(f"sampler_{kind}.json")

    @property
    def reconstructions(self) -> str:
        return self.file(RECONSTRUCTIONS_FILE)

    @property
    def samples(self) -> str:
        return self.file(SAMPLES_FILE)

    @property
    def logs(self) -> str:
        return self.file(LOGS_DIR)

    @property
    def backup(self) -> str:
        return self.file(BACKUP_DIR)

    def worker_backup(self, index: int) -> str:
        """The backup of multi-worker task `index` (not the chief)."""
        return os.path.join(self.backup, f"worker_{index}")

    def tempered_samples(self, temperature: float) -> str:
        return self.file(f"samples_t{temperature:g}.png")

    def split_reconstructions(self, split: str) -> str:
        return self.file(f"reconstructions_{split}.png")

    def interpolation(self, method: str) -> str:
        return self.file(f"interpolation_{method}.png")

    def traversal(self) -> str:
        return self.file("traversal.png")

    def edit(self, attribute: str) -> str:
        return self.file(f"edit_{attribute}.png")

    def evaluation(self, split: str) -> str:
        return self.file(f"evaluation_{split}.json")


def record_path(model_path: str) -> str:
    """`best.json` beside `best.keras`: the record of the best epoch
    (`vae_tf.training.best_model`)."""
    return model_path[:-len(".keras")] + ".json" \
        if model_path.endswith(".keras") else model_path + ".json"


def default_run_dir() -> str:
    """`runs/<date-time>`, where `vae-tf train` writes without --out."""
    import time

    return os.path.join(RUNS_ROOT, time.strftime("%Y%m%d-%H%M%S"))


class RunExistsError(ValueError):
    """The run directory already holds a finished run."""


class ModelLoadError(ValueError):
    """A model file is corrupt, truncated or refused by safe mode."""


# -- creating and resuming ---------------------------------------------------


def prepare_run_dir(out_dir: str, config: VAEConfig,
                    restart: bool = False) -> Optional[int]:
    """Checks `out_dir`; returns the epoch to resume from, or `None`.

    An interrupted run (a backup) resumes from the latest copy of its
    backup that loads, else the earlier one (said on stderr); `restart`
    deletes its backup, history, logs and best model and starts over.

    Raises:
        RunExistsError: a finished run (model.keras, no backup) is there.
        ConfigError: an interrupted run with a different config is there.
        BackupDamagedError: no copy of the backup loads (nothing deleted).
    """
    paths = RunPaths(out_dir)
    backup, config_path = paths.backup, paths.config
    if restart and os.path.isdir(backup):
        _forget_interrupted_run(paths)
    if os.path.isdir(backup) and os.path.isfile(config_path):
        saved = VAEConfig.load(config_path).resolve()  # "auto" decided
        changed = [
            f.name for f in dataclasses.fields(VAEConfig)
            if f.name not in RESUMABLE_CHANGES
            and getattr(saved, f.name) != getattr(config, f.name)
        ]
        if changed:
            raise ConfigError(
                f"{out_dir} holds an interrupted run with a different config "
                f"({', '.join(changed)}). Rerun with the same options to "
                "resume it, or choose a new --out."
            )
        epoch = resume_epoch(backup, RESTART_HINT)
        trim_history(paths.history, epoch)
        return epoch
    if os.path.isfile(paths.model):
        raise RunExistsError(
            f"{out_dir} already holds a finished run ({MODEL_FILE}). Choose "
            "a new --out, or delete the directory to train again."
        )
    os.makedirs(out_dir, exist_ok=True)
    return None


RESTART_HINT = ("rerun the same command with --restart (train(..., "
                "restart=True)), which deletes this run's backup, history "
                "and logs")


def _forget_interrupted_run(paths: "RunPaths") -> None:
    """What `--restart` deletes: the interrupted run's training state."""
    for folder in (paths.backup, paths.logs):
        shutil.rmtree(folder, ignore_errors=True)
    for path in (paths.history, paths.best_model,
                 record_path(paths.best_model)):
        if os.path.exists(path):
            os.remove(path)


# -- the model -----------------------------------------------------------------


def save_model(vae: keras.Model, path: str,
               include_optimizer: bool = True) -> None:
    """`vae.save(path)` through a temporary file and an atomic rename;
    without `include_optimizer`, an uncompiled copy with the same weights
    (a third of the size: Adam keeps two slots per weight)."""
    if not include_optimizer:
        copy = vae.__class__.from_config(vae.get_config())  # not compiled
        copy.set_weights(vae.get_weights())
        vae = copy
    with io_utils.atomic_path(path, suffix=".keras") as tmp:
        vae.save(tmp)


def load_model(path: str) -> keras.Model:
    """`keras.saving.load_model(path)` in safe mode, with clear errors.

    Raises:
        FileNotFoundError: no such file.
        ModelLoadError: truncated/corrupt archive, or one that holds Python
            code (a `Lambda` layer), which safe mode refuses to run.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found: {path}")
    # The archive's Keras objects register when their modules import.
    import vae_tf.layers  # noqa: F401
    import vae_tf.losses  # noqa: F401
    import vae_tf.schedules.learning_rate  # noqa: F401
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # zipfile, h5py, JSON and Keras errors alike
        text = str(err)
        if "safe_mode" in text or "Lambda" in text or "lambda" in text:
            raise ModelLoadError(
                f"Refused to load {path}: it contains Python code (e.g. a "
                "Lambda layer), which safe mode never runs. vae_tf models "
                "have none: rebuild the model from its config.json and "
                "retrain."
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else ""
        raise ModelLoadError(
            f"Cannot load {path}: the file is truncated or corrupt "
            f"({type(err).__name__}: {first[:200]})."
        ) from None


def load_run(run_dir: str) -> tuple[VAEConfig, VAEModels]:
    """Loads `config.json` and `model.keras` (safe mode) from a run dir.

    The models compute in float32 whatever precision the run trained in
    (the same float32 weights; see `vae_tf.models.in_precision`), so
    generation, evaluation and the exported SavedModels agree.
    """
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"Run directory not found: {run_dir}")
    paths = RunPaths(run_dir)
    config = VAEConfig.load(paths.config)
    vae = load_model(paths.model)
    return config, in_precision(split_vae(vae, config), config, "float32")


def run_sampler(run_dir: str, config: VAEConfig, kind: Optional[str] = None):
    """The sampler a run draws with: `kind` (`mixture`, `flow`, `prior`),
    default the run's own (`config.sampler`, "auto" resolved when the run
    was trained: `sampler.json`); runs without `sampler.json` use the
    prior."""
    from vae_tf.samplers import SAMPLERS

    paths = RunPaths(run_dir)
    if kind is not None and kind not in SAMPLERS:
        raise ConfigError(
            f"Unknown sampler {kind!r}. Choose one of: {', '.join(SAMPLERS)}"
        )
    if (kind or config.sampler) == "prior":
        return PriorSampler(config.latent_dim)
    if kind is None or kind == config.sampler:
        if not os.path.isfile(paths.sampler):  # older runs fitted none
            return PriorSampler(config.latent_dim)
        chosen = load_sampler(paths.sampler)
        if kind is None or chosen.kind == kind:
            return chosen
    for path in (paths.fitted_sampler(kind), paths.sampler):
        if os.path.isfile(path):
            found = load_sampler(path)
            if found.kind == kind:
                return found
    raise FileNotFoundError(
        f"{paths.fitted_sampler(kind)} not found: this run has no fitted "
        f"{kind}. Use another --sampler, or train with --sampler {kind} "
        "(or auto).")


# -- data and splits -----------------------------------------------------------


def run_data(config: VAEConfig, verbose: Verbosity = 0) -> DataSet:
    """The data set a run trains on, as its config names it (`verbose`:
    a progress bar while procedural images are drawn)."""
    from vae_tf.data import load_data

    return load_data(
        config.data, num_examples=config.num_examples, seed=config.seed,
        data_dir=config.data_dir, image_shape=config.input_shape,
        verbose=verbose, fit=config.image_fit, strict=config.strict_images,
    )


def _check_split(split: str) -> None:
    from vae_tf.data import SPLITS  # the names only: no TensorFlow

    if split not in SPLITS:
        raise ValueError(
            f"Unknown split {split!r}. Choose one of: {', '.join(SPLITS)}"
        )


def evaluation_images(config: VAEConfig, images: np.ndarray, split: str):
    """`images` of `split` as the model sees them outside training: for a
    binarized (Bernoulli) model, binarized once with the split's fixed
    seed; otherwise unchanged (uint8 stays uint8)."""
    _check_split(split)
    if config.use_binarization:
        from vae_tf.data.pipeline import binarize_fixed

        return binarize_fixed(images, config.seed + SPLIT_SEEDS[split])
    return images


def split_images(config: VAEConfig, data: DataSet, split: str) -> np.ndarray:
    """float32 images of `split`, binarized once if the model was."""
    _check_split(split)
    images = getattr(data, split).images
    if images is None:
        from vae_tf.data import DataError
        raise DataError(
            f"The {split} split of {data.name!r} is streamed from shards and "
            "not held in memory; use the validation or test split."
        )
    return as_float_images(evaluation_images(config, images, split))


class Run:
    """A finished run directory: its config and models (loaded once, safe
    mode) and, on first use, its data.

    Args:
        run_dir: the directory `vae-tf train` wrote.
        data: the run's data set if already loaded (else `run_data`).
        verbose: a progress bar while `run_data` draws procedural images
            (`vae_tf._internal.progress`).
        output_dir: where pictures and reports go by default (`outputs`;
            default the run directory; a shipped preset's are written to
            the working directory instead).
    """

    def __init__(self, run_dir: str, data: Optional[DataSet] = None,
                 verbose: Verbosity = 0, output_dir: Optional[str] = None):
        self.dir = run_dir
        self.paths = RunPaths(run_dir)
        self.outputs = RunPaths(output_dir or run_dir)
        self.config, self.models = load_run(run_dir)
        self._data = data
        self._verbose = verbose

    @property
    def data(self) -> DataSet:
        if self._data is None:
            self._data = run_data(self.config, self._verbose)
        return self._data

    def split_images(self, split: str) -> np.ndarray:
        """Every float image of `split`, as the model sees them."""
        return split_images(self.config, self.data, split)

    def images(self, split: str, n: int, seed: int) -> np.ndarray:
        """`n` random float images of `split` (as the model sees them):
        rows `pick(split, n, seed)`."""
        return self.split_images(split)[self.pick(split, n, seed)]

    def pick(self, split: str, n: int, seed: int) -> np.ndarray:
        """Sorted indices of `n` random rows of `split`."""
        count = len(getattr(self.data, split).images)
        return np.sort(np.random.default_rng(seed).choice(
            count, min(n, count), replace=False))

    def sampler(self, kind: Optional[str] = None):
        """`run_sampler` of this run."""
        return run_sampler(self.dir, self.config, kind)

    def history(self) -> dict[str, list[float]]:
        """`read_history` of this run's `history.csv`."""
        return read_history(self.paths.history)
