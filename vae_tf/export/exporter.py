"""`export_models` / `export_run`: encoder and decoder as two versioned
SavedModels in TF Serving's layout (`layout`), with named signatures
(`archives`) and `assets.extra/` (`assets`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from typing import Iterator, Optional

from vae_tf.config import VAEConfig
from vae_tf.export import archives, assets, layout
from vae_tf.export.layout import ExportError
from vae_tf.models import VAEModels, in_precision
from vae_tf.models.precision import EXPORT_PRECISIONS
from vae_tf._internal import disk_full
from vae_tf._internal.progress import Progress, Verbosity
from vae_tf.runs.lock import DirectoryLock


@dataclasses.dataclass
class ExportResult:
    """Where `export_models` wrote the two models."""

    name: str
    version: int
    encoder_dir: str
    decoder_dir: str


def export_models(
    models: VAEModels,
    config: VAEConfig,
    name: str = "vae",
    base: str = "saved_models",
    keep: Optional[int] = None,
    metrics: Optional[dict[str, float]] = None,
    sampler=None,
    verbose: Verbosity = 0,
    tflite: bool = False,
    precision: str = "float32",
) -> ExportResult:
    """Exports encoder and decoder as `NAME_encoder` / `NAME_decoder`.

    Both are written to hidden folders first and renamed into place only
    when both are complete; an existing version is never overwritten.

    Args:
        models: the trained `VAEModels`.
        config: the run's resolved config (input shape, latent size).
        name: model name prefix; validated, no path parts.
        base: base folder, one sub-folder per served model.
        keep: if set, keep only the newest `keep` versions of each model.
        metrics: training metrics to record in `vae_tf.json`.
        sampler: what the decoder's `sample` signature draws z from (a
            `vae_tf.samplers` sampler); default N(0, I).
        verbose: a progress bar over the steps (trace and write each
            model, convert to TFLite; see `vae_tf._internal.progress`).
        tflite: also write the decoder's `serving_default` as
            `model.tflite` in its version folder, checked against the
            SavedModel (`vae_tf.export.tflite`).
        precision: what the exported graphs compute in, `"float32"` or
            `"bfloat16"` (the networks in bfloat16, faster at large
            batches on CPUs with AVX512_BF16; benchmarks/README.md);
            inputs and outputs are float32 either way. Independent of the
            precision the model was trained in (weights are float32).

    Returns:
        An `ExportResult` with the new version number and directories.

    Raises:
        ExportError: bad name, `keep < 1`, or an unwritable base folder.
    """
    _check_arguments(name, precision, tflite, keep)
    models = in_precision(models, config, precision)
    config = config.replace(precision=precision)
    if sampler is None:
        from vae_tf.samplers import PriorSampler

        sampler = PriorSampler(config.latent_dim)
    model_dirs = layout.model_bases(base, name)  # ExportError if unwritable
    # Concurrent exports to one base queue here, each choosing its
    # version after the previous one published.
    with _base_lock(base):
        version = layout.next_version(*model_dirs)
        info = assets.metadata(config, metrics or {}, name, version, sampler)
        progress = Progress(4 + tflite, f"Exporting {name!r} version "
                                        f"{version} to {base}", verbose)
        final = _write_both(models, config, sampler, model_dirs, version,
                            info, progress, tflite)
        if keep is not None:
            for model_dir in model_dirs:
                layout.prune_versions(model_dir, keep)
    return ExportResult(name, version, final[0], final[1])


@contextlib.contextmanager
def _base_lock(base: str) -> Iterator[None]:
    """Holds (waiting for) `base`'s export lock for the `with` body."""
    lock = DirectoryLock(base, "export base", wait=True)
    try:
        lock.acquire()
    except OSError as err:
        raise ExportError(
            f"Cannot lock {base!r} for exporting: {err.strerror}. Choose a "
            "writable --base.") from None
    try:
        yield
    finally:
        lock.release()


def _check_arguments(name: str, precision: str, tflite: bool,
                     keep: Optional[int]) -> None:
    """`ExportError` naming the first bad argument of `export_models`."""
    layout.validate_name(name)
    if precision not in EXPORT_PRECISIONS:
        raise ExportError(
            f"Expected precision to be one of {', '.join(EXPORT_PRECISIONS)}"
            f". Received: precision={precision!r}")
    if tflite and precision != "float32":
        raise ExportError(
            "The TFLite file is converted from a float32 export: use "
            "precision='float32' (--precision float32) with tflite.")
    if keep is not None and (not isinstance(keep, int) or keep < 1):
        raise ExportError(f"Expected keep >= 1. Received: keep={keep!r}")


def _write_both(models, config, sampler, model_dirs, version: int,
                info: dict, progress: Progress, tflite: bool) -> list[str]:
    """Writes encoder and decoder into hidden folders, then publishes both
    as `version`; a failure leaves neither (and no hidden folder)."""
    pending = []
    try:
        for model_dir, build in zip(
            model_dirs, (archives.encoder_archive, archives.decoder_archive)
        ):
            tmp = layout.temp_version_dir(model_dir, version)
            pending.append(tmp)
            archive, reference, warmup = build(models, config, sampler)
            progress.advance()
            with disk_full.naming(os.path.join(model_dir, str(version))):
                archive.write_out(tmp, verbose=False)
                assets.write_assets(tmp, os.path.basename(model_dir),
                                    reference, warmup, info)
            progress.advance()
        if tflite:
            from vae_tf.export.tflite import write_tflite

            with disk_full.naming(os.path.join(model_dirs[1], str(version))):
                write_tflite(pending[1])
            progress.advance()
        return [layout.publish(tmp, model_dir, version)
                for tmp, model_dir in zip(pending, model_dirs)]
    finally:
        for tmp in pending:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)


def export_run(
    run_dir: str, name: str = "vae", base: str = "saved_models",
    keep: Optional[int] = None, sampler: Optional[str] = None,
    verbose: Verbosity = 0, tflite: bool = False, precision: str = "float32",
) -> ExportResult:
    """Exports the model of a `vae-tf train` run directory, with the
    run's sampler (`config.sampler`, or `sampler`: mixture/prior) and its
    last epoch's metrics; `verbose`, `tflite` and `precision` as in
    `export_models`."""
    from vae_tf.runs import Run

    run = Run(run_dir)
    return export_models(
        run.models, run.config, name, base, keep,
        metrics=read_final_metrics(run.paths.history),
        sampler=run.sampler(sampler), verbose=verbose, tflite=tflite,
        precision=precision,
    )


def read_final_metrics(history_csv: str) -> dict[str, float]:
    """The last epoch of a `history.csv` (empty if absent)."""
    from vae_tf.runs import read_history

    return {k: v[-1] for k, v in read_history(history_csv).items() if v}
