"""`evaluate_run(run_dir)`: the numbers that compare VAEs, as one report.

On a split of the run's data (the test split by default): the -ELBO with
its reconstruction and KL parts, the IWAE bound on -log p(x) with k
samples, KL per latent dimension, active units and, for data with known
generative factors (`faces`, `shapes`), the disentanglement metrics (MIG,
DCI, SAP; `vae_tf.evaluation.metrics`, their predictors fitted on up to
2,000 training-split codes and scored on the evaluated split); and
sample quality (`vae_tf.evaluation.quality`): Frechet distances in the data
set's probe feature space for reconstructions, the run's samples and a real
floor, attribute recall and the aggregate posterior's gap to the prior.
All likelihood numbers are nats per image.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from vae_tf.data import DataSet
from vae_tf.data.faces import ATTRIBUTES
from vae_tf.data.shapes import FACTORS
from vae_tf.evaluation.metrics import (
    active_units, dci, iwae_nll, mutual_information_gap, negative_elbo,
    separated_attribute_predictability)
from vae_tf.evaluation.metrics.elbo import encode_moments
from vae_tf.evaluation.metrics.frechet import aggregate_posterior_gap
from vae_tf.evaluation.probe import NoLabelsError
from vae_tf.models import likelihood_scale
from vae_tf.runs import Run

GROUND_TRUTH = {"faces": ATTRIBUTES, "shapes": FACTORS}


def evaluate_run(
    run: Union[str, Run], split: str = "test", k: int = 1000,
    iwae_images: Optional[int] = 1000, seed: int = 0,
    data: Optional[DataSet] = None, verbose: bool = True,
    quality: bool = True, sampler: Optional[str] = None,
    served_decoder: Optional[str] = None,
) -> dict[str, object]:
    """Evaluates the model of a run directory.

    Args:
        run: the run directory, or a `Run` already loaded.
        split: `train`, `validation` or `test`.
        k: importance samples of the IWAE bound (0 skips it).
        iwae_images: first images of the split used for the IWAE bound
            (`None`: all); the other metrics use the whole split.
        data: the run's data set, if already loaded.
        quality: add the probe-based `quality` section (trains and
            caches the data set's probe on first use).
        sampler: `mixture` or `prior` for the sample FD (default: the
            run's `config.sampler`).
        served_decoder: an exported decoder SavedModel whose own `sample`
            signature is also scored (`quality.fd_samples_served`).

    Returns:
        A JSON-serialisable dict (see the module docstring).
    """
    if not isinstance(run, Run):
        run = Run(run, data)
    config = run.config
    x = run.split_images(split)
    report: dict[str, object] = {
        "run_dir": run.dir, "data": config.data, "split": split,
        "num_images": int(len(x)), "beta": config.beta,
        "likelihood": config.likelihood,
    }
    report.update(_likelihood_report(run, x, k, iwae_images, seed, verbose,
                                     _conditions(run, split)))
    skipped: dict[str, str] = {}
    report.update(_latent_report(run, x, split, skipped))
    report["reconstruction_pixels"] = pixel_report(run, x, split)
    if quality:
        try:
            report["quality"] = run_quality(
                run, split, seed, verbose, sampler, served_decoder,
            )
        except NoLabelsError as err:
            skipped["quality"] = (
                f"the probe-based section (Frechet distances, attribute "
                f"recall) needs labels: {err}")
    report["skipped"] = skipped
    return report


def pixel_report(run: Run, x: np.ndarray, split: str,
                 batch_size: int = 256) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM of the reconstructions (decoded posterior
    means) of `x` against the split's images, both in [0, 1]; SSIM needs
    images of at least 11 x 11 pixels (`None` below)."""
    import tensorflow as tf

    from vae_tf.data.pipeline import as_float_images

    real = as_float_images(getattr(run.data, split).images)
    conditions = _conditions(run, split)
    psnr, ssim = [], []
    for start in range(0, len(x), batch_size):
        rows = slice(start, start + batch_size)
        z = _codes(run, x[rows], split, start)
        z = z if conditions is None else {
            "z": z, **{k: v[rows] for k, v in conditions.items()}}
        recon = tf.clip_by_value(run.models.decoder(z, training=False),
                                 0.0, 1.0)
        psnr.append(tf.image.psnr(real[rows], recon, max_val=1.0).numpy())
        if min(x.shape[1:3]) >= 11:
            ssim.append(tf.image.ssim(real[rows], recon,
                                      max_val=1.0).numpy())
    return {"psnr_db": float(np.mean(np.concatenate(psnr))),
            "ssim": float(np.mean(np.concatenate(ssim))) if ssim else None}


def _conditions(run: Run, split: str, count: Optional[int] = None):
    """A conditional run's encoded conditions of `split`'s first `count`
    rows, `{factor: (n, width)}`; `None` for an unconditional run."""
    from vae_tf.data.conditions import model_conditions

    return model_conditions(run.config.specs(),
                            getattr(run.data, split).attributes, count)


def _likelihood_report(run: Run, x: np.ndarray, k: int,
                       iwae_images: Optional[int], seed: int,
                       verbose: bool, conditions: Optional[dict]) -> dict:
    """The likelihood's scale, -ELBO and its parts, and the IWAE bound on
    the first `iwae_images` of `x` (none if `k` is 0); `conditions` those
    of `x`'s rows (a conditional run)."""
    config, models = run.config, run.models
    param_decoder = models.vae.get_layer("decoder")
    scale = likelihood_scale(models.vae, config)
    # Bernoulli has no scale: report none rather than a placeholder.
    report = {"likelihood_scale": (
        None if config.likelihood == "bernoulli" else scale)}
    report.update(negative_elbo(
        models.encoder, param_decoder, x, config.likelihood, scale,
        seed=seed, conditions=conditions,
    ))
    if k:
        subset = x if iwae_images is None else x[:iwae_images]
        if conditions is not None:
            conditions = {n: v[:len(subset)] for n, v in conditions.items()}
        iwae = iwae_nll(
            models.encoder, param_decoder, subset, config.likelihood,
            scale, k=k, seed=seed, verbose=verbose, conditions=conditions,
        )
        report["iwae"] = {key: iwae[key]
                          for key in ("iwae_nll", "k", "num_images")}
    return report


def _latent_report(run: Run, x: np.ndarray, split: str,
                   skipped: dict) -> dict:
    """Active units of the codes of `x`, the aggregate posterior's gap to
    the prior and, for data with known generative factors, MIG, DCI and
    SAP (else `mig: None` and a reason in `skipped`)."""
    z_mean = _codes(run, x, split)
    report = {**active_units(z_mean),
              "aggregate_posterior": aggregate_posterior_gap(z_mean)}
    names = GROUND_TRUTH.get(run.data.name)
    if not names:
        skipped["disentanglement"] = (
            "MIG, DCI and SAP need the data's generative factors, known "
            f"for {', '.join(GROUND_TRUTH)}; {run.data.name!r} has none")
        return {**report, "mig": None}
    factors = _factors(run, split, names)
    mig = mutual_information_gap(z_mean, factors)
    fit_split = "train" if split != "train" else "validation"
    fit_x = run.split_images(fit_split)[:DISENTANGLEMENT_FIT_POINTS]
    fit = (_codes(run, fit_x, fit_split),
           _factors(run, fit_split, names)[:len(fit_x)])
    scores = dci(*fit, z_mean, factors)
    sap = separated_attribute_predictability(*fit, z_mean, factors)
    return {
        **report, "mig": mig["mig"],
        "mig_per_factor": dict(zip(names, mig["mig_per_factor"])),
        "dci": {
            "disentanglement": scores["disentanglement"],
            "completeness": scores["completeness"],
            "informativeness": scores["informativeness"],
            "informativeness_per_factor": dict(
                zip(names, scores["informativeness_per_factor"])),
            "importance": scores["importance"],
            "fit_split": fit_split, "fit_points": len(fit_x),
        },
        "sap": sap["sap"],
        "sap_per_factor": dict(zip(names, sap["sap_per_factor"])),
    }


# Training-split codes the DCI and SAP predictors are fitted on.
DISENTANGLEMENT_FIT_POINTS = 2000


def _codes(run: Run, x: np.ndarray, split: str,
           start: int = 0) -> np.ndarray:
    """`z_mean` of `x`, the rows `start, start + 1, ...` of `split`."""
    conditions = _conditions(run, split, start + len(x))
    if conditions is not None:
        conditions = {k: v[start:] for k, v in conditions.items()}
    return encode_moments(run.models.encoder, x, 256, conditions)[0]


def _factors(run: Run, split: str, names) -> np.ndarray:
    attributes = getattr(run.data, split).attributes
    return np.stack([attributes[n] for n in names], axis=1)


def summary(report: dict) -> dict:
    """The one-line digest `vae-tf evaluate` prints: -ELBO and its parts,
    active units, MIG, DCI, SAP, the IWAE bound and the Frechet distances
    (when the report has them)."""
    digest = {k: report[k] for k in ("neg_elbo", "reconstruction", "kl",
                                     "active_units", "mig")}
    if "dci" in report:
        digest.update({f"dci_{k}": report["dci"][k] for k in (
            "disentanglement", "completeness", "informativeness")})
        digest["sap"] = report["sap"]
    if "iwae" in report:
        digest["iwae_nll"] = report["iwae"]["iwae_nll"]
    if "reconstruction_pixels" in report:
        digest.update(report["reconstruction_pixels"])
    if "quality" in report:
        quality = report["quality"]
        digest.update({k: quality[k] for k in quality if k.startswith("fd_")})
        if "condition_accuracy" in quality:
            digest["condition_accuracy"] = quality["condition_accuracy"]
    return digest


def run_quality(run: Run, split: str = "test", seed: int = 0,
                verbose: bool = True, sampler: Optional[str] = None,
                served_decoder: Optional[str] = None) -> dict:
    """`vae_tf.evaluation.quality.sample_quality` for a run on `split`; the
    floor is the validation split (the test split when `split` is
    validation)."""
    from vae_tf.evaluation.probe import probe_for
    from vae_tf.evaluation.quality import sample_quality

    data = run.data
    probe = probe_for(data, seed=0, verbose=verbose, search=(run.dir,))
    floor_split = "validation" if split != "validation" else "test"
    real = getattr(data, split).images
    conditions = _conditions(run, split)
    report = sample_quality(
        probe, run.models.encoder, run.models.decoder, run.sampler(sampler),
        real, getattr(data, split).attributes,
        floor=getattr(data, floor_split).images, seed=seed,
        model_images=run.split_images(split), conditions=conditions,
    )
    if conditions is not None:
        from vae_tf.evaluation.quality import condition_accuracy

        report["condition_accuracy"] = condition_accuracy(
            probe, run.models.decoder, run.sampler(sampler),
            run.config.specs(), getattr(data, split).attributes, seed=seed)
    if served_decoder:
        from vae_tf.generate import sample_served
        from vae_tf.evaluation.metrics.frechet import frechet_distance

        # A conditional decoder draws under the split's rows' factors,
        # as the `fd_samples` above.
        values = {s.name: getattr(data, split).attributes[s.name]
                  for s in run.config.specs()}
        served, _ = sample_served(served_decoder, len(real), seed,
                                  conditions=values or None)
        report["fd_samples_served"] = frechet_distance(
            probe.features(real), probe.features(served)
        )
    return report
