"""Encoder and decoder as two SavedModels in TensorFlow Serving's layout.

    saved_models/NAME_encoder/<version>/  saved_model.pb, variables/,
                                          assets.extra/
    saved_models/NAME_decoder/<version>/  ...

Signatures (built with `keras.export.ExportArchive`, so inputs and outputs
have names instead of `output_0`; batch dimension dynamic):

- encoder `serving_default`: `image` float32 `(batch, H, W, C)` in [0, 1]
  -> `z_mean`, `z_log_var` float32 `(batch, latent_dim)`.
- encoder `encode_sample`: same input -> `z_mean`, `z_log_var` and a
  posterior sample `z`.
- decoder `serving_default`: `z` float32 `(batch, latent_dim)` -> `image`
  float32 `(batch, H, W, C)` in the data's range (means / probabilities).
- decoder `sample`: `num_samples` int32 scalar, `seed` int64 scalar ->
  `image` and the draw `z` of the run's sampler (`vae_tf.samplers`: the
  fitted Gaussian mixture, baked in as constants, or N(0, I)); stateless,
  so a seed repeats exactly and matches `vae_tf.generate.sample`.

Each version is written to a hidden temporary directory (`.tmp-...`, which
TF Serving ignores because it only loads all-digit names) inside the
model's base path and renamed into place: a server polling the base path
never sees a partial version. Existing versions are never overwritten.
`assets.extra/` holds `tf_serving_warmup_requests` (PredictionLog
records, replayed by TF Serving at load) and `vae_tf.json` (config,
training metrics, versions, signatures) plus `vae_tf_reference.npz`
(inputs and the Keras model's outputs, which `check_export` compares
against).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import uuid
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from vae_tf import __version__
from vae_tf.config import VAEConfig
from vae_tf.models import VAEModels

ENCODER_SUFFIX = "_encoder"
DECODER_SUFFIX = "_decoder"
SERVING_DEFAULT = "serving_default"
ENCODE_SAMPLE = "encode_sample"
SAMPLE = "sample"
ASSETS_EXTRA = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
METADATA_FILE = "vae_tf.json"
REFERENCE_FILE = "vae_tf_reference.npz"
TMP_PREFIX = ".tmp-"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ExportError(ValueError):
    """The export cannot be written (bad name, unwritable base, ...)."""


@dataclasses.dataclass
class ExportResult:
    """Where `export_models` wrote the two models."""

    name: str
    version: int
    encoder_dir: str
    decoder_dir: str


def validate_name(name: str) -> str:
    """Model names become directory names: letters, digits, `_ . -` only."""
    if (
        not isinstance(name, str)
        or not _NAME.match(name)
        or ".." in name
    ):
        raise ExportError(
            f"Invalid export name {name!r}: use letters, digits, '_', '-' "
            "and '.', starting with a letter or digit, no '..' and no path "
            "separators (e.g. --name faces_vae)."
        )
    return name


def versions(model_dir: str) -> list[int]:
    """Integer version directories under a model base path, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(d) for d in os.listdir(model_dir)
        if d.isdigit() and os.path.isdir(os.path.join(model_dir, d))
    )


def export_models(
    models: VAEModels,
    config: VAEConfig,
    name: str = "vae",
    base: str = "saved_models",
    keep: Optional[int] = None,
    metrics: Optional[dict[str, float]] = None,
    sampler=None,
) -> ExportResult:
    """Exports encoder and decoder as `NAME_encoder` / `NAME_decoder`.

    Args:
        models: the trained `VAEModels`.
        config: the run's resolved config (input shape, latent size).
        name: model name prefix; validated, no path parts.
        base: base folder, one sub-folder per served model.
        keep: if set, keep only the newest `keep` versions of each model.
        metrics: training metrics to record in `vae_tf.json`.
        sampler: what the decoder's `sample` signature draws z from (a
            `vae_tf.samplers` sampler); default N(0, I).

    Returns:
        An `ExportResult` with the new version number and directories.

    Raises:
        ExportError: bad name, `keep < 1`, or an unwritable base folder.
    """
    validate_name(name)
    if keep is not None and (not isinstance(keep, int) or keep < 1):
        raise ExportError(f"Expected keep >= 1. Received: keep={keep!r}")
    encoder_base = os.path.join(base, name + ENCODER_SUFFIX)
    decoder_base = os.path.join(base, name + DECODER_SUFFIX)
    try:
        os.makedirs(encoder_base, exist_ok=True)
        os.makedirs(decoder_base, exist_ok=True)
    except OSError as err:
        raise ExportError(
            f"Cannot create export folders under {base!r}: {err.strerror}. "
            "Choose a writable --base."
        ) from None
    for folder in (encoder_base, decoder_base):
        if not os.access(folder, os.W_OK):
            raise ExportError(
                f"Export folder {folder!r} is not writable. Choose a "
                "writable --base."
            )
    version = max(versions(encoder_base) + versions(decoder_base) + [0]) + 1
    if sampler is None:
        from vae_tf.samplers import PriorSampler

        sampler = PriorSampler(config.latent_dim)
    metadata = _metadata(config, metrics or {}, name, version)
    metadata["sampler"] = {
        "kind": sampler.kind,
        "num_components": getattr(sampler, "num_components", None),
    }
    pending = []
    try:
        for model_base, build in (
            (encoder_base, _encoder_archive), (decoder_base, _decoder_archive)
        ):
            tmp = os.path.join(
                model_base, f"{TMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
            )
            pending.append(tmp)
            archive, reference, warmup = build(models, config, sampler)
            archive.write_out(tmp, verbose=False)
            served = os.path.basename(model_base)
            _write_assets(tmp, served, archive, reference, warmup, metadata)
        final = []
        for tmp, model_base in zip(pending, (encoder_base, decoder_base)):
            target = os.path.join(model_base, str(version))
            if os.path.exists(target):
                raise ExportError(
                    f"{target} appeared while exporting; not overwriting it."
                )
            os.rename(tmp, target)
            final.append(target)
    finally:
        for tmp in pending:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
    if keep is not None:
        for model_base in (encoder_base, decoder_base):
            prune_versions(model_base, keep)
    return ExportResult(name, version, final[0], final[1])


def prune_versions(model_dir: str, keep: int) -> list[int]:
    """Deletes all but the newest `keep` versions; returns those removed.

    Each version is first renamed to a hidden name (TF Serving unloads it
    at once and never sees it half-deleted), then removed.
    """
    removed = versions(model_dir)[:-keep]
    for v in removed:
        doomed = os.path.join(
            model_dir, f"{TMP_PREFIX}delete-{v}-{uuid.uuid4().hex[:8]}"
        )
        os.rename(os.path.join(model_dir, str(v)), doomed)
        shutil.rmtree(doomed)
    return removed


def export_run(
    run_dir: str, name: str = "vae", base: str = "saved_models",
    keep: Optional[int] = None, sampler: Optional[str] = None,
) -> ExportResult:
    """Exports the model of a `vae-tf train` run directory, with the
    run's sampler (`config.sampler`, or `sampler`: mixture/prior)."""
    from vae_tf.training import HISTORY_FILE, load_run, run_sampler

    config, models = load_run(run_dir)
    return export_models(
        models, config, name, base, keep,
        metrics=read_final_metrics(os.path.join(run_dir, HISTORY_FILE)),
        sampler=run_sampler(run_dir, config, sampler),
    )


def read_final_metrics(history_csv: str) -> dict[str, float]:
    """The last epoch of a `history.csv` (empty if absent)."""
    from vae_tf.training import read_history

    return {k: v[-1] for k, v in read_history(history_csv).items() if v}


# -- archives ---------------------------------------------------------------


def _batch_safe(model, x):
    """The outputs of a multi-output `model(x)` (the encoders), also for
    an empty batch.

    oneDNN's CPU convolutions reject a batch of 0 ("input depth must be
    evenly divisible by filter depth"), so a client sending no rows would
    get an obscure error. One zero row is appended only when the batch is
    empty (a `concat` with a 0- or 1-row block: no control flow, and no
    `Pad` that the converters would fuse into the first convolution) and
    the outputs are cut back to the batch size.
    """
    n = tf.shape(x)[0]
    filler = tf.zeros(
        tf.concat([[1 - tf.minimum(n, 1)], tf.shape(x)[1:]], axis=0), x.dtype
    )
    padded = tf.concat([x, filler], axis=0)
    padded.set_shape([None, *x.shape[1:]])
    return [o[:n] for o in model(padded, training=False)]


def _encoder_archive(models: VAEModels, config: VAEConfig, sampler):
    encoder = models.encoder
    mean_encoder = keras.Model(
        encoder.inputs, encoder.outputs[:2], name="mean_encoder"
    )
    archive = keras.export.ExportArchive()
    archive.track(encoder)
    spec = [tf.TensorSpec((None, *config.input_shape), tf.float32, "image")]

    def encode(image):
        z_mean, z_log_var = _batch_safe(mean_encoder, image)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def encode_sample(image):
        z_mean, z_log_var, z = _batch_safe(encoder, image)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    archive.add_endpoint(SERVING_DEFAULT, encode, input_signature=spec)
    archive.add_endpoint(ENCODE_SAMPLE, encode_sample, input_signature=spec)

    # Representative inputs without touching the data set: images decoded
    # from the sampler's draws lie on the data manifold the model learned.
    z = sampler.sample(32, seed=0)
    images = models.decoder.predict(z, verbose=0).astype(np.float32)
    z_mean, z_log_var = mean_encoder.predict(images, verbose=0)
    reference = {
        "serving_default/image": images,
        "serving_default/z_mean": z_mean,
        "serving_default/z_log_var": z_log_var,
    }
    warmup = [
        (SERVING_DEFAULT, {"image": images[:1]}),
        (SERVING_DEFAULT, {"image": images}),
        (ENCODE_SAMPLE, {"image": images[:1]}),
        (ENCODE_SAMPLE, {"image": images}),
    ]
    return archive, reference, warmup


def _decoder_archive(models: VAEModels, config: VAEConfig, sampler):
    decoder = models.decoder
    latent_dim = config.latent_dim
    archive = keras.export.ExportArchive()
    archive.track(decoder)

    # The decoder (Dense, then transposed convolutions) answers an empty
    # batch as it is; only the encoder's first convolution needs the row.
    def decode(z):
        return {"image": decoder(z, training=False)}

    def sample(num_samples, seed):
        z = sampler.tf_sample(num_samples, seed)
        return {"image": decoder(z, training=False), "z": z}

    archive.add_endpoint(
        SERVING_DEFAULT, decode,
        input_signature=[tf.TensorSpec((None, latent_dim), tf.float32, "z")],
    )
    archive.add_endpoint(
        SAMPLE, sample,
        input_signature=[
            tf.TensorSpec((), tf.int32, "num_samples"),
            tf.TensorSpec((), tf.int64, "seed"),
        ],
    )
    z = sampler.sample(32, seed=1)
    reference = {
        "serving_default/z": z,
        "serving_default/image": decoder.predict(z, verbose=0),
    }
    warmup = [
        (SERVING_DEFAULT, {"z": z[:1]}),
        (SERVING_DEFAULT, {"z": z}),
        (SAMPLE, {"num_samples": np.int32(4), "seed": np.int64(0)}),
    ]
    return archive, reference, warmup


# -- assets.extra -------------------------------------------------------------


def _metadata(config, metrics, name, version) -> dict:
    return {
        "name": name,
        "version": version,
        "config": config.to_dict(),
        "metrics": metrics,
        "versions": {
            "vae_tf": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    }


def _signature_specs(path: str) -> dict:
    """Signature names -> input/output names, dtypes and shapes."""
    loaded = tf.saved_model.load(path)
    out = {}
    for key, fn in loaded.signatures.items():
        inputs = fn.structured_input_signature[1]
        outputs = fn.structured_outputs
        out[key] = {
            "inputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()}
                for k, v in inputs.items()
            },
            "outputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()}
                for k, v in outputs.items()
            },
        }
    return out


def _write_assets(path, served_name, archive, reference, warmup, metadata):
    extra = os.path.join(path, ASSETS_EXTRA)
    os.makedirs(extra, exist_ok=True)
    write_warmup(os.path.join(extra, WARMUP_FILE), served_name, warmup)
    np.savez(os.path.join(extra, REFERENCE_FILE), **reference)
    info = dict(metadata, model=served_name, signatures=_signature_specs(path))
    with open(os.path.join(extra, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2, sort_keys=True)


def write_warmup(path: str, model_name: str, requests) -> None:
    """Writes PredictionLog records TF Serving replays when it loads.

    Args:
        requests: `(signature_name, {input_name: array})` pairs.
    """
    from tensorflow_serving.apis import (model_pb2, predict_pb2,
                                         prediction_log_pb2)

    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(
                    name=model_name, signature_name=signature
                )
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
