"""`train(config)`: data -> model -> `fit` -> run directory.

This is the wiring the CLI runs; scripts can call it, or do the same in
five lines with `build_vae`, `compile_vae`, `make_dataset` and `fit`.

A run directory holds `config.json` (the resolved config), `model.keras`,
`history.csv`, TensorBoard `logs/`, `sampler.json` (the latent sampler
fitted after training, `vae_tf.samplers`), `reconstructions.png`
(validation images over their reconstructions) and `samples.png` (decoded
draws of the run's sampler). Every file is written atomically.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import shutil
import sys
from typing import Optional, Sequence

import keras
import numpy as np

from vae_tf import distribute, io_utils, plotting
from vae_tf.config import ConfigError, VAEConfig
from vae_tf.data import (
    DataSet, load_data, make_dataset, make_training_dataset,
)
from vae_tf.data.pipeline import as_float_images, binarize_fixed
from vae_tf.data.validation import check_images
from vae_tf.distribute import make_strategy, worker_role
from vae_tf.models import VAEModels, build_vae, compile_vae, split_vae
from vae_tf.samplers import (SAMPLER_FILE, PriorSampler, load_sampler,
                             save_sampler, select_mixture)
from vae_tf.schedules import schedule_callbacks

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"
# Fields that may change when an interrupted run is resumed.
RESUMABLE_CHANGES = ("epochs",)


class RunExistsError(ValueError):
    """The run directory already holds a finished run."""


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite; `TerminateOnNaN` stopped `fit`."""


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the resolved config, models and history."""

    config: VAEConfig
    models: VAEModels
    history: dict[str, list[float]]
    data: DataSet


def resolve_config(config: VAEConfig, data: DataSet) -> VAEConfig:
    """Fills `input_shape` and `widths` from the data, or checks agreement."""
    shape = data.image_shape
    if config.input_shape is not None and tuple(config.input_shape) != shape:
        raise ConfigError(
            f"config.input_shape={tuple(config.input_shape)} does not match "
            f"the {data.name!r} images {shape}. Remove input_shape from the "
            "config to take it from the data."
        )
    config = config.resolve(shape)
    config.validate()
    return config


def evaluation_images(config: VAEConfig, images: np.ndarray, seed: int):
    """Validation/test images as the model sees them (fixed binarization)."""
    if config.use_binarization:
        return binarize_fixed(images, seed)
    return images


def train(
    config: VAEConfig,
    out_dir: Optional[str] = None,
    data: Optional[DataSet] = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    save_every_steps: Optional[int] = None,
    deterministic: bool = False,
    strategy: Optional[str] = None,
) -> TrainResult:
    """Trains a VAE as `config` says; writes a run directory if `out_dir`.

    With `out_dir`, training state is backed up in `out_dir/backup/` (Keras
    `BackupAndRestore`) after every epoch, or every `save_every_steps`
    steps: calling `train` again with the same config and `out_dir` after a
    crash resumes from the last backup (weights, optimizer, step counter;
    an interrupted epoch restarts from its first batch) and continues
    `history.csv`. Training stops on a NaN loss (`TerminateOnNaN`).

    Args:
        config: the run's config; `input_shape=None` takes the data's.
        out_dir: run directory to create/fill/resume, or `None`.
        data: a loaded `DataSet`, or `None` to load `config.data`.
        callbacks: extra Keras callbacks for `fit`.
        verbose: Keras `fit` verbosity.
        save_every_steps: back up every N steps instead of every epoch.
        deterministic: `tf.config.experimental.enable_op_determinism()`
            (process-wide). Needed on GPUs only: seeded CPU runs give
            identical weights without it.
        strategy: `None`, `"mirrored"` or `"multiworker"` (see
            `vae_tf.distribute`); only the chief writes `out_dir`.

    Returns:
        A `TrainResult`; `history` has `loss`, `reconstruction`, `kl` and
        their `val_` twins in nats per image, per epoch.

    Raises:
        ConfigError, DataError: invalid config or data (checked first).
        RunExistsError: `out_dir` holds a finished run.
    """
    if save_every_steps is not None and (
        not isinstance(save_every_steps, int) or save_every_steps <= 0
    ):
        raise ConfigError(
            "Expected save_every_steps to be a positive integer. Received: "
            f"save_every_steps={save_every_steps!r}"
        )
    dist = make_strategy(strategy)  # first: before any other TF work
    is_chief, task_index = worker_role() if dist is not None else (True, 0)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    if data is None:
        data = load_data(
            config.data, num_examples=config.num_examples, seed=config.seed,
            data_dir=config.data_dir, image_shape=config.input_shape,
        )
    for split in ("train", "validation"):
        images = getattr(data, split).images
        if images is None:  # streamed from shards, checked when written
            continue
        check_images(images, f"{data.name} {split} split", config.input_shape)
    config = resolve_config(config, data)
    resume_epoch = None
    writer_dir = out_dir if is_chief else None  # artefacts: chief only
    if writer_dir is not None:
        resume_epoch = prepare_run_dir(out_dir, config)
        config.save(os.path.join(out_dir, CONFIG_FILE))

    steps = -(-len(data.train) // config.batch_size)
    with distribute.scope(dist):
        models = build_vae(config)
        compile_vae(models.vae, config, steps_per_epoch=steps)
    steps_per_epoch = steps
    if strategy == "multiworker":
        # Workers shard the batches, so one stream spanning every epoch
        # would split unevenly at epoch boundaries: let `fit` iterate a
        # one-epoch dataset per epoch (a resumed epoch is reshuffled).
        steps_per_epoch = None
        train_ds = make_dataset(
            data.train.source(), config.batch_size, shuffle=True,
            binarize=config.use_binarization, seed=config.seed,
        )
    else:
        # Epoch k's batches depend on (seed, k) only: resuming replays them.
        train_ds = make_training_dataset(
            data.train.source(), config.batch_size, config.epochs,
            resume_epoch or 0, binarize=config.use_binarization,
            seed=config.seed,
        )
    val_images = evaluation_images(config, data.validation.images, config.seed + 1)
    val_ds = make_dataset(val_images, config.batch_size)

    all_callbacks = list(schedule_callbacks(config, steps))
    all_callbacks.append(keras.callbacks.TerminateOnNaN())
    if out_dir is not None and not is_chief:
        # Other workers keep their own backup so they can resume too.
        all_callbacks.append(keras.callbacks.BackupAndRestore(
            os.path.join(out_dir, BACKUP_DIR, f"worker_{task_index}"),
            save_freq=save_every_steps or "epoch", double_checkpoint=True,
            delete_checkpoint=False,
        ))
    if writer_dir is not None:
        # CSVLogger before BackupAndRestore: a crash between the two leaves
        # a row that prepare_run_dir trims on resume, never a missing one.
        all_callbacks += [
            keras.callbacks.CSVLogger(
                os.path.join(out_dir, HISTORY_FILE),
                append=resume_epoch is not None,
            ),
            keras.callbacks.BackupAndRestore(
                os.path.join(out_dir, BACKUP_DIR),
                save_freq=save_every_steps or "epoch",
                double_checkpoint=True, delete_checkpoint=False,
            ),
            keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")),
        ]
    all_callbacks += list(callbacks)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    if resume_epoch is not None and verbose:
        print(f"vae-tf: resuming {out_dir} from epoch {resume_epoch + 1}",
              flush=True)
    history = models.vae.fit(
        train_ds, validation_data=val_ds, epochs=config.epochs,
        steps_per_epoch=steps_per_epoch, callbacks=all_callbacks,
        verbose=verbose, shuffle=False,
    )
    _check_finite(history.history.get("loss", []), resume_epoch, config,
                  out_dir)
    if writer_dir is not None:
        save_model(models.vae, os.path.join(out_dir, MODEL_FILE))
        mixture = fit_sampler(models, data, config, val_images)
        save_sampler(mixture, os.path.join(out_dir, SAMPLER_FILE))
        sampler = mixture if config.sampler == "mixture" else PriorSampler(
            config.latent_dim
        )
        save_pictures(models, val_images, out_dir, config.seed, sampler)
        # Only now is the run safely finished.
        shutil.rmtree(os.path.join(out_dir, BACKUP_DIR), ignore_errors=True)
        full_history = read_history(os.path.join(out_dir, HISTORY_FILE))
    else:
        full_history = history.history
    return TrainResult(config, models, full_history, data)


def _check_finite(losses, resume_epoch, config, out_dir) -> None:
    """Raises `TrainingDivergedError` if `fit` stopped on a NaN/Inf loss,
    before anything marks the run as finished."""
    if not losses or math.isfinite(losses[-1]):
        return
    epoch = (resume_epoch or 0) + len(losses)
    where = (f" Nothing was saved as {MODEL_FILE}; train into a new run "
             f"directory (or delete {out_dir})." if out_dir else "")
    raise TrainingDivergedError(
        f"Training diverged: the loss became {losses[-1]} in epoch {epoch}."
        f"{where} Lower the learning rate (learning_rate="
        f"{config.learning_rate:g}) or check the data for extreme values."
    )


def prepare_run_dir(out_dir: str, config: VAEConfig) -> Optional[int]:
    """Checks `out_dir`; returns the epoch to resume from, or `None`.

    Raises:
        RunExistsError: a finished run (model.keras, no backup) is there.
        ConfigError: an interrupted run with a different config is there.
    """
    backup = os.path.join(out_dir, BACKUP_DIR)
    config_path = os.path.join(out_dir, CONFIG_FILE)
    if os.path.isdir(backup) and os.path.isfile(config_path):
        saved = VAEConfig.load(config_path)
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
        epoch = backup_epoch(backup)
        trim_history(os.path.join(out_dir, HISTORY_FILE), epoch)
        return epoch
    if os.path.isfile(os.path.join(out_dir, MODEL_FILE)):
        raise RunExistsError(
            f"{out_dir} already holds a finished run ({MODEL_FILE}). Choose "
            "a new --out, or delete the directory to train again."
        )
    os.makedirs(out_dir, exist_ok=True)
    return None


def backup_epoch(backup_dir: str) -> int:
    """The epoch a `BackupAndRestore` backup restarts (0 if none)."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        path = os.path.join(backup_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                return int(json.load(f)["epoch"])
        except (OSError, ValueError, KeyError):
            continue
    return 0


def read_history(path: str) -> dict[str, list[float]]:
    """`history.csv` as `{column: [value per epoch]}` (without `epoch`)."""
    if not os.path.isfile(path):
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {k: [float(r[k]) for r in rows] for k in rows[0] if k != "epoch"}


def trim_history(path: str, epoch: int) -> None:
    """Drops rows of epochs >= `epoch` (written after the last backup)."""
    if not os.path.isfile(path):
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header = rows[0]
    # Rows of later epochs, and a half-written last line, go.
    kept = [header] + [
        r for r in rows[1:]
        if len(r) == len(header) and r[0].isdigit() and int(r[0]) < epoch
    ]
    with io_utils.atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(kept)


def save_model(vae: keras.Model, path: str) -> None:
    """`vae.save(path)` through a temporary file and an atomic rename."""
    with io_utils.atomic_path(path, suffix=".keras") as tmp:
        vae.save(tmp)


MAX_SAMPLER_CODES = 20000


def fit_sampler(models: VAEModels, data: DataSet, config: VAEConfig,
                val_images: np.ndarray):
    """The ex-post mixture over the training codes (`z_mean` of up to
    `MAX_SAMPLER_CODES` training images), its component count chosen on
    the validation codes."""
    source = data.train.images
    if source is None:  # streamed from shards: take the first images
        stream = data.train.stream.take(MAX_SAMPLER_CODES).batch(1000)
        source = np.concatenate([b.numpy() for b in stream])
    x = as_float_images(source[:MAX_SAMPLER_CODES])
    if config.use_binarization:
        x = binarize_fixed(x, config.seed + 3)
    z_train = models.encoder.predict(x, batch_size=256, verbose=0)[0]
    z_val = models.encoder.predict(
        as_float_images(val_images), batch_size=256, verbose=0
    )[0]
    return select_mixture(z_train, z_val, seed=config.seed)


def run_sampler(run_dir: str, config: VAEConfig, kind: Optional[str] = None):
    """The sampler a run draws with: `kind` (`mixture`/`prior`), default
    `config.sampler`; runs without `sampler.json` use the prior."""
    kind = kind or config.sampler
    path = os.path.join(run_dir, SAMPLER_FILE)
    if kind == "prior":
        return PriorSampler(config.latent_dim)
    if kind != "mixture":
        raise ConfigError(
            f"Unknown sampler {kind!r}. Choose one of: mixture, prior"
        )
    if not os.path.isfile(path):
        if config.sampler == "mixture" and kind == config.sampler:
            return PriorSampler(config.latent_dim)  # older runs
        raise FileNotFoundError(
            f"{path} not found: this run has no fitted mixture. Use "
            "--sampler prior."
        )
    return load_sampler(path)


def save_pictures(
    models: VAEModels, images: np.ndarray, out_dir: str, seed: int,
    sampler=None,
) -> None:
    """Writes `reconstructions.png` and `samples.png` (32 draws of
    `sampler`, default the prior) into `out_dir`."""
    x = as_float_images(images[:16])
    z_mean = models.encoder.predict(x, verbose=0)[0]
    recon = models.decoder.predict(z_mean, verbose=0)
    rows = [x[:8], recon[:8], x[8:16], recon[8:16]]
    plotting.save_grid(
        os.path.join(out_dir, "reconstructions.png"),
        np.concatenate([r for r in rows if len(r)]), rows=4,
    )
    if sampler is None:
        sampler = PriorSampler(models.decoder.input_shape[-1])
    z = sampler.sample(32, seed)
    samples = models.decoder.predict(z, verbose=0)
    plotting.save_grid(os.path.join(out_dir, "samples.png"), samples, rows=4)


class ModelLoadError(ValueError):
    """A model file is corrupt, truncated or refused by safe mode."""


def load_model(path: str) -> keras.Model:
    """`keras.saving.load_model(path)` in safe mode, with clear errors.

    Raises:
        FileNotFoundError: no such file.
        ModelLoadError: truncated/corrupt archive, or one that holds Python
            code (a `Lambda` layer), which safe mode refuses to run.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found: {path}")
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
    """Loads `config.json` and `model.keras` (safe mode) from a run dir."""
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"Run directory not found: {run_dir}")
    config = VAEConfig.load(os.path.join(run_dir, CONFIG_FILE))
    vae = load_model(os.path.join(run_dir, MODEL_FILE))
    return config, split_vae(vae, config)
