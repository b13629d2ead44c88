"""`train(config)`: data -> model -> `fit` -> run directory.

This is the wiring the CLI runs; scripts can call it, or do the same in
five lines with `build_vae`, `compile_vae`, `make_dataset` and `fit`.

A run directory holds `config.json` (the resolved config), `model.keras`,
`history.csv`, TensorBoard `logs/`, `reconstructions.png` (validation
images over their reconstructions) and `samples.png` (decoded prior
samples). Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Optional, Sequence

import keras
import numpy as np

from vae_tf import io_utils, plotting
from vae_tf.config import ConfigError, VAEConfig
from vae_tf.data import DataSet, load_data, make_dataset
from vae_tf.data.pipeline import binarize_fixed
from vae_tf.models import VAEModels, build_vae, compile_vae, split_vae
from vae_tf.schedules import schedule_callbacks

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"


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
) -> TrainResult:
    """Trains a VAE as `config` says; writes a run directory if `out_dir`.

    Args:
        config: the run's config; `input_shape=None` takes the data's.
        out_dir: run directory to create/fill, or `None` for no files.
        data: a loaded `DataSet`, or `None` to load `config.data`.
        callbacks: extra Keras callbacks for `fit`.
        verbose: Keras `fit` verbosity.

    Returns:
        A `TrainResult`; `history` has `loss`, `reconstruction`, `kl` and
        their `val_` twins in nats per image, per epoch.
    """
    if data is None:
        data = load_data(
            config.data, num_examples=config.num_examples, seed=config.seed,
            data_dir=config.data_dir, image_shape=config.input_shape,
        )
    config = resolve_config(config, data)
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        config.save(os.path.join(out_dir, CONFIG_FILE))

    models = build_vae(config)
    compile_vae(models.vae, config)
    train_ds = make_dataset(
        data.train.images, config.batch_size, shuffle=True,
        binarize=config.use_binarization, seed=config.seed,
    )
    val_images = evaluation_images(config, data.validation.images, config.seed + 1)
    val_ds = make_dataset(val_images, config.batch_size)
    steps = -(-len(data.train) // config.batch_size)

    all_callbacks = list(schedule_callbacks(config, steps))
    if out_dir is not None:
        all_callbacks += [
            keras.callbacks.CSVLogger(os.path.join(out_dir, HISTORY_FILE)),
            keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")),
        ]
    all_callbacks += list(callbacks)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    history = models.vae.fit(
        train_ds, validation_data=val_ds, epochs=config.epochs,
        callbacks=all_callbacks, verbose=verbose, shuffle=False,
    )
    if out_dir is not None:
        save_model(models.vae, os.path.join(out_dir, MODEL_FILE))
        save_pictures(models, val_images, out_dir, config.seed)
    return TrainResult(config, models, history.history, data)


def save_model(vae: keras.Model, path: str) -> None:
    """`vae.save(path)` through a temporary file and an atomic rename."""
    with io_utils.atomic_path(path, suffix=".keras") as tmp:
        vae.save(tmp)


def save_pictures(
    models: VAEModels, images: np.ndarray, out_dir: str, seed: int
) -> None:
    """Writes `reconstructions.png` and `samples.png` into `out_dir`."""
    x = plotting.to_float(images[:16])
    z_mean = models.encoder.predict(x, verbose=0)[0]
    recon = models.decoder.predict(z_mean, verbose=0)
    rows = [x[:8], recon[:8], x[8:16], recon[8:16]]
    plotting.save_grid(
        os.path.join(out_dir, "reconstructions.png"),
        np.concatenate([r for r in rows if len(r)]), rows=4,
    )
    latent_dim = models.decoder.input_shape[-1]
    z = np.random.default_rng(seed).standard_normal((32, latent_dim))
    samples = models.decoder.predict(z.astype(np.float32), verbose=0)
    plotting.save_grid(os.path.join(out_dir, "samples.png"), samples, rows=4)


def load_run(run_dir: str) -> tuple[VAEConfig, VAEModels]:
    """Loads `config.json` and `model.keras` (safe mode) from a run dir."""
    config = VAEConfig.load(os.path.join(run_dir, CONFIG_FILE))
    path = os.path.join(run_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No {MODEL_FILE} in run directory {run_dir}")
    vae = keras.saving.load_model(path)
    return config, split_vae(vae, config)
