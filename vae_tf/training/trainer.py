"""`train(config)`: data -> model -> `fit` -> run directory.

This is the wiring the CLI runs; scripts can call it, or do the same in
five lines with `build_vae`, `compile_vae`, `make_dataset` and `fit`.
The run directory it fills (config, model, history, TensorBoard logs, the
fitted sampler, two pictures; every file written atomically) is laid out,
resumed and read by `vae_tf.runs`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
from typing import Optional, Sequence

import keras
import numpy as np

from vae_tf.training import distribute
from vae_tf.config import ConfigError, VAEConfig
from vae_tf.data.folder import write_skipped_report
from vae_tf.data import DataSet, make_dataset, make_training_dataset
from vae_tf.data.conditions import model_conditions, model_inputs
from vae_tf.data.validation import check_images
from vae_tf.training.distribute import make_strategy, worker_role
from vae_tf.training.multiworker_fixes import fit_fixes
from vae_tf.models import (VAEModels, build_vae, compile_vae, rebuild,
                           set_dataset_size)
from vae_tf.pictures import png
from vae_tf._internal.pixels import as_float_images
from vae_tf._internal.progress import resolve_verbose
from vae_tf.runs import (MODEL_FILE, RunPaths, evaluation_images,
                         prepare_run_dir, read_history, run_data, save_model)
from vae_tf.runs.directory import RESTART_HINT
from vae_tf.runs.lock import DirectoryLock
from vae_tf.samplers import PriorSampler, save_sampler
from vae_tf.training.backup import RunBackup
from vae_tf.training.disk_writes import EventFilesIntact, naming_writes
from vae_tf.training.run_samplers import choose_sampler, fit_samplers
from vae_tf.schedules import schedule_callbacks
from vae_tf.training.best_model import (BestModel, check_patience,
                                        previous_val_loss)
from vae_tf.training.summaries import PROJECTOR_POINTS, LatentSummaries


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite; `TerminateOnNaN` stopped `fit`."""


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the resolved config, models and history."""

    config: VAEConfig
    models: VAEModels
    history: dict[str, list[float]]
    data: DataSet

    def summary(self) -> str:
        """The last epoch's validation numbers, one sentence."""
        h = self.history
        return (f"Final validation loss {h['val_loss'][-1]:.2f}, "
                f"reconstruction {h['val_reconstruction'][-1]:.2f}, KL "
                f"{h['val_kl'][-1]:.2f} nats/image.")


@dataclasses.dataclass
class _Job:
    """One `train` call's settings, as its helpers need them."""

    config: VAEConfig
    data: DataSet
    out_dir: Optional[str]
    strategy: Optional[str]
    dist: object  # the tf.distribute strategy, or None
    is_chief: bool
    task_index: int
    resume_epoch: Optional[int]
    steps: int  # batches per epoch
    save_every_steps: Optional[int]
    val_images: np.ndarray  # as the model sees them (`runs`)
    early_stopping: Optional[int] = None  # patience, epochs
    lock: Optional[DirectoryLock] = None  # the run directory's, if written

    @property
    def paths(self) -> Optional[RunPaths]:
        """The run directory's files (None without `out_dir`)."""
        return None if self.out_dir is None else RunPaths(self.out_dir)

    @property
    def writes_run(self) -> bool:
        """Only the chief writes the run directory's artefacts."""
        return self.out_dir is not None and self.is_chief


def resolve_config(config: VAEConfig, data: DataSet) -> VAEConfig:
    """Fills `input_shape` and `widths` from the data, or checks agreement."""
    shape = data.image_shape
    if config.input_shape is not None and tuple(config.input_shape) != shape:
        raise ConfigError(
            f"config.input_shape={tuple(config.input_shape)} does not match "
            f"the {data.name!r} images {shape}. Remove input_shape from the "
            "config to take it from the data."
        )
    if config.condition is not None:
        if data.train.images is None:
            raise ConfigError(
                f"condition={list(config.condition)}: a conditional model "
                "trains on images held in memory; the training split of "
                f"{data.name!r} is streamed from shards.")
        config = config.with_conditions(data.train.attributes, data.name)
    config = config.resolve(shape)
    config.validate()
    return config


def train(
    config: VAEConfig,
    out_dir: Optional[str] = None,
    data: Optional[DataSet] = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    save_every_steps: Optional[int] = None,
    deterministic: bool = False,
    strategy: Optional[str] = None,
    early_stopping: Optional[int] = None,
    restart: bool = False,
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
        verbose: Keras `fit` verbosity; `"auto"`: a progress bar on a
            terminal, one line per epoch otherwise.
        save_every_steps: back up every N steps instead of every epoch.
        deterministic: `tf.config.experimental.enable_op_determinism()`
            (process-wide). Needed on GPUs only: seeded CPU runs give
            identical weights without it.
        strategy: `None`, `"mirrored"` or `"multiworker"` (see
            `vae_tf.training.distribute`); only the chief writes `out_dir`.
        early_stopping: stop after this many epochs without a lower
            `val_loss` and restore the best weights (`best_model`; a run
            keeps `best.keras` beside `model.keras` either way).
        restart: start an interrupted run in `out_dir` over, deleting its
            backup, history and logs (a backup that cannot be resumed
            from says to).

    Returns:
        A `TrainResult`; `history` has `loss`, `reconstruction`, `kl` and
        their `val_` twins in nats per image, per epoch.

    Raises:
        ConfigError, DataError: invalid config or data (checked first).
        vae_tf.runs.RunExistsError: `out_dir` holds a finished run.
        vae_tf.runs.RunInUseError: another process is training into
            `out_dir` (it holds the directory's lock).
        TrainingDivergedError: the loss became NaN or infinite.
        vae_tf.runs.BackupDamagedError: no copy of the backup loads.
        vae_tf._internal.disk_full.DiskFullError: the disk filled up
            (the file is named; rerunning resumes from the last backup).
    """
    verbose = resolve_verbose(verbose)
    patience = check_patience(early_stopping, strategy)  # before any file
    job = _start(config, out_dir, data, save_every_steps, deterministic,
                 strategy, verbose, restart)
    job.early_stopping = patience
    try:
        with distribute.scope(job.dist):
            models = build_vae(job.config)
            set_dataset_size(models.vae, len(job.data.train))
            compile_vae(models.vae, job.config, steps_per_epoch=job.steps)
        history = _fit(models, job, list(callbacks), verbose)
        if job.strategy == "multiworker":
            # Pictures, the sampler fit and the caller's predictions on the
            # chief alone must not start collectives no other worker joins.
            models = rebuild(models, job.config)
        if not job.writes_run:
            return TrainResult(job.config, models, history, job.data)
        _finish_run(models, job)
        return TrainResult(job.config, models,
                           read_history(job.paths.history), job.data)
    finally:
        if job.lock is not None:
            job.lock.release()


def _start(config, out_dir, data, save_every_steps, deterministic,
           strategy, verbose: int, restart: bool = False) -> _Job:
    """Checks the arguments and the data, resolves the config, and
    creates, resumes or refuses the run directory (chief only)."""
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
        data = run_data(config, verbose)
    for split in ("train", "validation"):
        images = getattr(data, split).images
        if images is None:  # streamed from shards, checked when written
            continue
        check_images(images, f"{data.name} {split} split", config.input_shape)
    config = resolve_config(config, data)
    resume_epoch, lock = None, None
    if out_dir is not None and is_chief:
        # One writer per run directory, held until train() returns.
        lock = DirectoryLock(out_dir).acquire()
    try:
        if lock is not None:
            resume_epoch = prepare_run_dir(out_dir, config, restart)
            config.save(RunPaths(out_dir).config)
            if data.skipped:  # unreadable photos, listed for the user
                write_skipped_report(out_dir, data.skipped)
        steps = -(-len(data.train) // config.batch_size)
        val_images = evaluation_images(config, data.validation.images,
                                       "validation")
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return _Job(config, data, out_dir, strategy, dist, is_chief, task_index,
                resume_epoch, steps, save_every_steps, val_images,
                lock=lock)


def _training_dataset(job: _Job):
    """`(dataset, steps_per_epoch)` for `fit`."""
    config, source = job.config, job.data.train.source()
    conditions = model_conditions(config.specs(), job.data.train.attributes)
    if job.strategy == "multiworker":
        if conditions:
            raise ConfigError(
                "Multi-worker training of a conditional model is not "
                "supported: train it on one machine (or --strategy "
                "mirrored).")
        # Workers shard the batches, so one stream spanning every epoch
        # would split unevenly at epoch boundaries: let `fit` iterate a
        # one-epoch dataset per epoch (a resumed epoch is reshuffled).
        return make_dataset(
            source, config.batch_size, shuffle=True,
            binarize=config.use_binarization, seed=config.seed,
            flip=config.horizontal_flip,
        ), None
    # Epoch k's batches depend on (seed, k) only: resuming replays them.
    return make_training_dataset(
        source, config.batch_size, config.epochs, job.resume_epoch or 0,
        binarize=config.use_binarization, seed=config.seed,
        conditions=conditions, flip=config.horizontal_flip,
    ), job.steps


def _callbacks(job: _Job,
               models: VAEModels) -> list[keras.callbacks.Callback]:
    """Schedules, `TerminateOnNaN`, and the run directory's writers."""
    paths, every = job.paths, job.save_every_steps or "epoch"
    found = list(schedule_callbacks(job.config, job.steps))
    found.append(keras.callbacks.TerminateOnNaN())
    if paths is not None and not job.is_chief:
        # Other workers keep their own backup so they can resume too.
        found.append(RunBackup(paths.worker_backup(job.task_index),
                               save_freq=every, restart_hint=RESTART_HINT))
    if job.writes_run:  # first: the logs are checked before more writes
        found.append(EventFilesIntact(paths.logs))
    if job.writes_run or job.early_stopping:
        best = BestModel(
            paths.best_model if job.writes_run else None,
            job.early_stopping,
            previous_val_loss(job.paths, job.resume_epoch is not None))
        found.append(naming_writes(best, paths.best_model) if job.writes_run
                     else best)
    if job.writes_run:
        # CSVLogger before BackupAndRestore: a crash between the two leaves
        # a row that prepare_run_dir trims on resume, never a missing one.
        found += [
            naming_writes(keras.callbacks.CSVLogger(
                paths.history, append=job.resume_epoch is not None,
            ), paths.history),
            RunBackup(paths.backup, save_freq=every,
                      restart_hint=RESTART_HINT),  # names its own writes
            naming_writes(keras.callbacks.TensorBoard(paths.logs),
                          paths.logs),
        ]
        # chief-only predictions would hang the other workers
        if job.strategy != "multiworker":
            attributes = job.data.validation.attributes
            found.append(naming_writes(LatentSummaries(
                models, paths.logs, job.val_images, attributes,
                seed=job.config.seed, conditions=model_conditions(
                    job.config.specs(), attributes,
                    min(len(job.val_images), PROJECTOR_POINTS))),
                paths.logs))
    return found


def _fit(models: VAEModels, job: _Job, callbacks: list,
         verbose: int) -> dict[str, list[float]]:
    """Runs `fit`; raises `TrainingDivergedError` on a NaN/Inf loss."""
    train_ds, steps_per_epoch = _training_dataset(job)
    val_ds = make_dataset(job.val_images, job.config.batch_size,
                          conditions=model_conditions(
                              job.config.specs(),
                              job.data.validation.attributes))
    if job.resume_epoch is not None and verbose:
        print(f"vae-tf: resuming {job.out_dir} from epoch "
              f"{job.resume_epoch + 1}" if job.resume_epoch < job.config.epochs
              else f"vae-tf: {job.out_dir} trained all {job.config.epochs} "
              "epochs before it stopped: writing its model and pictures",
              flush=True)
    fixes = (fit_fixes(models.vae) if job.strategy == "multiworker"
             else contextlib.nullcontext())
    with fixes:
        history = models.vae.fit(
            train_ds, validation_data=val_ds, epochs=job.config.epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=_callbacks(job, models) + callbacks, verbose=verbose,
            shuffle=False,
        ).history
    _check_finite(history.get("loss", []), job)
    return history


def _check_finite(losses, job: _Job) -> None:
    """Raises `TrainingDivergedError` if `fit` stopped on a NaN/Inf loss,
    before anything marks the run as finished."""
    if not losses or math.isfinite(losses[-1]):
        return
    epoch = (job.resume_epoch or 0) + len(losses)
    where = (f" Nothing was saved as {MODEL_FILE}; train into a new run "
             f"directory (or delete {job.out_dir})." if job.out_dir else "")
    raise TrainingDivergedError(
        f"Training diverged: the loss became {losses[-1]} in epoch {epoch}."
        f"{where} Lower the learning rate (learning_rate="
        f"{job.config.learning_rate:g}) or check the data for extreme "
        "values."
    )


def _finish_run(models: VAEModels, job: _Job) -> None:
    """Writes the model, the fitted sampler and the pictures; then deletes
    the backup, which marks the run as finished."""
    config, paths, val_images = job.config, job.paths, job.val_images
    save_model(models.vae, paths.model)
    fitted = fit_samplers(models, job.data, config, val_images)
    if len(fitted) > 1:  # each kept for --sampler KIND
        for kind, candidate in fitted.items():
            save_sampler(candidate, paths.fitted_sampler(kind))
    chosen = choose_sampler(models, job.data, config, val_images, fitted)
    save_sampler(chosen, paths.sampler)
    sampler = chosen if config.sampler != "prior" else PriorSampler(
        config.latent_dim
    )
    save_pictures(models, val_images, paths, config.seed, sampler, config,
                  job.data.validation.attributes)
    shutil.rmtree(paths.backup, ignore_errors=True)


def save_pictures(models: VAEModels, images: np.ndarray, paths: RunPaths,
                  seed: int, sampler, config: Optional[VAEConfig] = None,
                  attributes=None) -> None:
    """Writes `reconstructions.png` (16 of `images` over their
    reconstructions) and `samples.png` (32 draws of `sampler`); a
    conditional `config` reconstructs with each image's own factors (the
    `attributes` of `images`' rows) and draws the samples under those of
    the first 32 images."""
    conditional = config is not None and config.condition is not None

    def given(values, name):
        if not conditional:
            return values
        return model_inputs(config.specs(), values, attributes, name)

    x = as_float_images(images[:16])
    z_mean = models.encoder.predict(given(x, "image"), verbose=0)[0]
    recon = models.decoder.predict(given(z_mean, "z"), verbose=0)
    rows = [x[:8], recon[:8], x[8:16], recon[8:16]]
    png.save_grid(
        paths.reconstructions, np.concatenate([r for r in rows if len(r)]),
        rows=4,
    )
    count = min(32, len(images)) if conditional else 32
    draws = sampler.sample(count, seed, conditions=model_conditions(
        config.specs(), attributes, count) if conditional else None)
    samples = models.decoder.predict(given(draws, "z"), verbose=0)
    png.save_grid(paths.samples, samples, rows=4)
