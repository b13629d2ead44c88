"""The samplers a run fits after training (`fit_samplers`: the mixture,
and the flow when asked for) and the choice among them
(`choose_sampler`), for `vae_tf.training.trainer`."""

from __future__ import annotations

import numpy as np

from vae_tf.config import VAEConfig
from vae_tf.data import DataSet
from vae_tf.data.conditions import model_conditions, model_inputs
from vae_tf.models import VAEModels
from vae_tf.runs import evaluation_images
from vae_tf.samplers import fit_flow, select_mixture
from vae_tf.samplers.selection import AUTO, choose
from vae_tf._internal.pixels import as_float_images

# The ex-post mixture is fitted to at most this many training codes.
MAX_SAMPLER_CODES = 20000


def fit_samplers(models: VAEModels, data: DataSet, config: VAEConfig,
                 val_images: np.ndarray) -> dict:
    """The ex-post samplers over the training codes (`z_mean` of up to
    `MAX_SAMPLER_CODES` training images), `{kind: sampler}`: the mixture
    (its component count chosen on the validation codes), and the flow
    (early-stopped on them) when `config.sampler` is flow or auto."""
    source = data.train.images
    if source is None:  # streamed from shards: take the first images
        stream = data.train.stream.take(MAX_SAMPLER_CODES).batch(1000)
        source = np.concatenate([b.numpy() for b in stream])
    x = as_float_images(
        evaluation_images(config, source[:MAX_SAMPLER_CODES], "train"))
    specs = config.specs()
    z_train = models.encoder.predict(
        model_inputs(specs, x, data.train.attributes), batch_size=256,
        verbose=0)[0]
    z_val = models.encoder.predict(
        model_inputs(specs, as_float_images(val_images),
                     data.validation.attributes), batch_size=256, verbose=0
    )[0]
    mixture = select_mixture(z_train, z_val, seed=config.seed)
    classes = [spec for spec in specs if spec.kind == "class"]
    if classes:  # draws follow the class factors (samplers.conditional)
        mixture = mixture.with_conditions(z_train, model_conditions(
            classes, data.train.attributes, len(z_train)))
    fitted = {"mixture": mixture}
    if config.sampler in ("flow", AUTO):
        fitted["flow"] = fit_flow(z_train, z_val, seed=config.seed)
    return fitted


def choose_sampler(models: VAEModels, data: DataSet, config: VAEConfig,
                   val_images: np.ndarray, fitted: dict):
    """The run's sampler among `fitted`: the one `config.sampler` names,
    or for "auto" the one whose decoded draws are nearest the validation
    images in the probe's feature space (Frechet distance), else (data
    without a probe) the best validation log-likelihood of the codes
    (`vae_tf.samplers.selection`). The choice is recorded in its
    `selection["choice"]`."""
    if config.sampler != AUTO:
        return fitted.get(config.sampler, fitted["mixture"])
    from vae_tf.evaluation.metrics.frechet import frechet_distance
    from vae_tf.evaluation.probe import probe_for

    try:
        probe = probe_for(data, seed=config.seed, verbose=False)
    except ValueError:  # no attributes a probe can learn
        probe = None
    if probe is not None:
        real = probe.features(as_float_images(data.validation.images))
        scores = {}
        for kind, sampler in fitted.items():
            conditions = model_conditions(
                config.specs(), data.validation.attributes, len(real))
            draws = sampler.sample(len(real), seed=config.seed,
                                   conditions=conditions)
            images = models.decoder.predict(
                draws if conditions is None else {"z": draws, **conditions},
                batch_size=256, verbose=0)
            scores[kind] = frechet_distance(real, probe.features(images))
        kind, record = choose(fitted, scores, "validation probe FD", True)
    else:
        scores = {k: float(s.selection["validation_log_likelihood"]
                           if k == "flow" else max(
                               s.selection["validation_log_likelihood"]
                               .values()))
                  for k, s in fitted.items()}
        kind, record = choose(fitted, scores,
                              "validation log-likelihood of the codes",
                              False)
    chosen = fitted[kind]
    chosen.selection = dict(chosen.selection, choice=record)
    return chosen
