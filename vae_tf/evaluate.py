"""`evaluate_run(run_dir)`: the numbers that compare VAEs, as one report.

On a split of the run's data (the test split by default): the -ELBO with
its reconstruction and KL parts, the IWAE bound on -log p(x) with k
samples, KL per latent dimension, active units and, for data with known
generative factors (`faces`, `shapes`), the Mutual Information Gap; and
sample quality (`vae_tf.quality`): Frechet distances in the data set's
probe feature space for reconstructions, the run's samples and a real
floor, attribute recall and the aggregate posterior's gap to the prior.
All likelihood numbers are nats per image.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vae_tf.data import DataSet, load_data
from vae_tf.data.pipeline import as_float_images
from vae_tf.data.faces import ATTRIBUTES
from vae_tf.data.shapes import FACTORS
from vae_tf.metrics import (active_units, iwae_nll, mutual_information_gap,
                            negative_elbo)
from vae_tf.models import likelihood_scale
from vae_tf.training import evaluation_images, load_run, run_sampler

GROUND_TRUTH = {"faces": ATTRIBUTES, "shapes": FACTORS}
SPLIT_SEEDS = {"validation": 1, "test": 2}  # fixed binarization seeds


def split_images(config, data: DataSet, split: str) -> np.ndarray:
    """float32 images of `split`, binarized once if the model was."""
    if split not in ("train", "validation", "test"):
        raise ValueError(
            f"Unknown split {split!r}. Choose one of: train, validation, test"
        )
    images = getattr(data, split).images
    if images is None:
        from vae_tf.data import DataError
        raise DataError(
            f"The {split} split of {data.name!r} is streamed from shards and "
            "not held in memory; use the validation or test split."
        )
    x = evaluation_images(config, images, config.seed + SPLIT_SEEDS.get(split, 3))
    return as_float_images(x)


def evaluate_run(
    run_dir: str, split: str = "test", k: int = 1000,
    iwae_images: Optional[int] = 1000, seed: int = 0,
    data: Optional[DataSet] = None, verbose: bool = True,
    quality: bool = True, sampler: Optional[str] = None,
    served_decoder: Optional[str] = None,
) -> dict[str, object]:
    """Evaluates the model of a run directory.

    Args:
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
    config, models = load_run(run_dir)
    if data is None:
        data = load_data(
            config.data, num_examples=config.num_examples, seed=config.seed,
            data_dir=config.data_dir, image_shape=config.input_shape,
        )
    x = split_images(config, data, split)
    param_decoder = models.vae.get_layer("decoder")
    scale = likelihood_scale(models.vae, config)
    report: dict[str, object] = {
        "run_dir": run_dir, "data": config.data, "split": split,
        "num_images": int(len(x)), "beta": config.beta,
        "likelihood": config.likelihood,
        # Bernoulli has no scale: report none rather than a placeholder.
        "likelihood_scale": (
            None if config.likelihood == "bernoulli" else scale),
    }
    elbo = negative_elbo(
        models.encoder, param_decoder, x, config.likelihood, scale,
        seed=seed,
    )
    report.update(elbo)
    if k:
        subset = x if iwae_images is None else x[:iwae_images]
        if verbose:
            print(f"IWAE bound, k={k}, {len(subset)} images:", flush=True)
        iwae = iwae_nll(
            models.encoder, param_decoder, subset, config.likelihood,
            scale, k=k, seed=seed, verbose=verbose,
        )
        report["iwae"] = {key: iwae[key] for key in ("iwae_nll", "k", "num_images")}
    z_mean = models.encoder.predict(x, batch_size=256, verbose=0)[0]
    report.update(active_units(z_mean))
    names = GROUND_TRUTH.get(data.name)
    if names:
        split_data = getattr(data, split)
        factors = np.stack([split_data.attributes[n] for n in names], axis=1)
        mig = mutual_information_gap(z_mean, factors)
        report["mig"] = mig["mig"]
        report["mig_per_factor"] = dict(zip(names, mig["mig_per_factor"]))
    else:
        report["mig"] = None
    if quality:
        report["quality"] = run_quality(
            run_dir, config, models, data, split, seed, verbose, sampler,
            served_decoder,
        )
    return report


def summary(report: dict) -> dict:
    """The one-line digest `vae-tf evaluate` prints: -ELBO and its parts,
    active units, MIG, the IWAE bound and the Frechet distances (when the
    report has them)."""
    digest = {k: report[k] for k in ("neg_elbo", "reconstruction", "kl",
                                     "active_units", "mig")}
    if "iwae" in report:
        digest["iwae_nll"] = report["iwae"]["iwae_nll"]
    if "quality" in report:
        quality = report["quality"]
        digest.update({k: quality[k] for k in quality if k.startswith("fd_")})
    return digest


def run_quality(run_dir, config, models, data, split="test", seed=0,
                verbose=True, sampler=None, served_decoder=None) -> dict:
    """`vae_tf.quality.sample_quality` for a run on `split`; the floor is
    the validation split (the test split when `split` is validation)."""
    from vae_tf.probe import probe_for
    from vae_tf.quality import sample_quality

    probe = probe_for(data, seed=0, verbose=verbose)
    floor_split = "validation" if split != "validation" else "test"
    real = getattr(data, split).images
    report = sample_quality(
        probe, models.encoder, models.decoder,
        run_sampler(run_dir, config, sampler), real,
        getattr(data, split).attributes,
        floor=getattr(data, floor_split).images, seed=seed,
        model_images=split_images(config, data, split),
    )
    if served_decoder:
        from vae_tf.generate import sample_served
        from vae_tf.metrics.frechet import frechet_distance

        served, _ = sample_served(served_decoder, len(real), seed)
        report["fd_samples_served"] = frechet_distance(
            probe.features(real), probe.features(served)
        )
    return report
