"""Sample quality of a VAE as a user sees it, measured with the data set's
probe (`vae_tf.evaluation.probe`).

- Frechet distances (`vae_tf.evaluation.metrics.frechet`) in the probe's feature
  space between real images of the evaluated split and (a) their
  reconstructions, (b) decoded draws of the run's sampler, drawn exactly
  as `vae-tf sample` and the exported `sample` signature draw them
  (`vae_tf.generate.sample`), and (c) a second, disjoint real set: the
  floor, what two finite samples of the data itself score.
- Attribute recall: for each class factor, how often the probe reads the
  true class off a reconstruction, beside its own accuracy on the real
  images; continuous factors get R^2.
- The aggregate posterior's distance from the prior
  (`aggregate_posterior_gap`): per-dimension std of `z_mean` and the KL of
  its Gaussian fit to N(0, I).
- Attribute edits (`edit_effect`): as the strength of an attribute vector
  rises, the probe's reading of that attribute should rise while the other
  class factors stay as they were.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from vae_tf import generate
from vae_tf.data.pipeline import as_float_images
from vae_tf.evaluation.metrics.frechet import (aggregate_posterior_gap,
                                               frechet_distance)
from vae_tf.evaluation.probe import Probe, find_factor, probe_scores


def sample_quality(
    probe: Probe, encoder, decoder, sampler, real: np.ndarray,
    attributes: dict[str, np.ndarray], floor: np.ndarray,
    num_samples: Optional[int] = None, seed: int = 0,
    model_images: Optional[np.ndarray] = None,
    conditions: Optional[dict] = None,
) -> dict[str, object]:
    """The quality report of one model on one split.

    Args:
        probe: the data set's probe.
        encoder, decoder: as `vae_tf.generate` takes them.
        sampler: a `vae_tf.samplers` sampler, or `None` to use a
            SavedModel decoder's own `sample` signature.
        real: images of the evaluated split `(n, H, W, C)` (originals,
            never binarized) and `attributes` their factors.
        floor: a second real set, disjoint from `real`.
        num_samples: generated images (default `len(real)`).
        model_images: `real` as the model sees them (binarized, for
            Bernoulli models), the encoder's input; default `real`.
        conditions: a conditional model's encoded conditions of `real`'s
            rows (`{factor: (n, width)}`): reconstructions use each
            image's own, and sample i is decoded under row i's (in turn
            when there are more samples than rows).

    Returns:
        `{"fd_reconstructions", "fd_samples", "fd_floor",
        "attributes": {factor: {"real": scores, "reconstructions":
        scores}}, "aggregate_posterior": {...}, "num_images",
        "num_samples"}`.
    """
    real = as_float_images(real)
    x = real if model_images is None else as_float_images(model_images)
    n = num_samples or len(real)
    if conditions is None:
        z_mean = generate.encoder_fn(encoder)(x)
        recon = generate.decoder_fn(decoder)(z_mean)
        samples, _ = generate.sample(decoder, n, seed=seed, sampler=sampler)
    else:
        z_mean = encoder.predict({"image": x, **conditions}, verbose=0)[0]
        recon = decoder.predict({"z": z_mean, **conditions}, verbose=0)
        samples = _conditional_samples(decoder, sampler, n, seed,
                                       conditions)
    f_real = probe.features(real)
    real_scores = probe_scores(probe, real, attributes)
    recon_scores = probe_scores(probe, recon, attributes)
    return {
        "fd_reconstructions": frechet_distance(f_real, probe.features(recon)),
        "fd_samples": frechet_distance(f_real, probe.features(samples)),
        "fd_floor": frechet_distance(f_real, probe.features(floor)),
        "attributes": {
            name: {"real": real_scores[name],
                   "reconstructions": recon_scores[name]}
            for name in real_scores
        },
        "aggregate_posterior": aggregate_posterior_gap(z_mean),
        "num_images": int(len(real)),
        "num_samples": int(n),
        "sampler": getattr(sampler, "kind", "saved_model"),
        "num_components": getattr(sampler, "num_components", None),
    }


def _conditional_samples(decoder, sampler, n: int, seed: int,
                         conditions: dict) -> np.ndarray:
    """`n` draws of `sampler` (seeds `seed + i`), draw i drawn and
    decoded under row `i % rows` of `conditions`."""
    rows = len(next(iter(conditions.values())))
    index = np.arange(n) % rows
    conditions = {k: v[index] for k, v in conditions.items()}
    z = sampler.sample(n, seed, conditions=conditions)
    return decoder.predict({"z": z, **conditions}, verbose=0)


def condition_accuracy(probe: Probe, decoder, sampler, specs,
                       attributes: dict, n: int = 400, seed: int = 0
                       ) -> dict[str, dict[str, float]]:
    """How often a conditional model draws what it is asked for, as the
    probe reads it (issue 29's targets).

    For each conditioned factor the probe reads, `n` draws are decoded
    with that factor set and the other factors taken from `n` random rows
    of `attributes` (a held-out split): a class factor once per class
    value, scored by the share read as that class; a continuous factor at
    its mean - 1 std and mean + 1 std, scored by the share read on that
    side of its mean.

    Returns:
        `{factor: {value name: share}}` (continuous: `"-1std"`,
        `"+1std"`).
    """
    from vae_tf.data.conditions import encode_conditions

    readable = {f.name for f in probe.factors}
    rows = np.random.default_rng(seed).choice(
        len(next(iter(attributes.values()))), n)
    base = {s.name: np.asarray(attributes[s.name])[rows] for s in specs}
    out: dict[str, dict[str, float]] = {}
    for index, spec in enumerate(s for s in specs if s.name in readable):
        if spec.kind == "class":
            asked = list(spec.values)
            names = list(spec.value_names) or [str(v) for v in asked]
        else:
            asked = [spec.mean - spec.std, spec.mean + spec.std]
            names = ["-1std", "+1std"]
        out[spec.name] = {}
        for k, (value, name) in enumerate(zip(asked, names)):
            values = dict(base, **{spec.name: np.full(n, value)})
            conditions = encode_conditions(specs, values)
            z = sampler.sample(n, seed + 1000 * index + k,
                               conditions=conditions)
            images = decoder.predict({"z": z, **conditions}, verbose=0)
            read = probe.predict(images)[spec.name]
            if spec.kind == "class":
                hit = read == value
            else:
                hit = np.sign(read - spec.mean) == np.sign(value - spec.mean)
            out[spec.name][name] = float(np.mean(hit))
    return out


def edit_effect(
    probe: Probe, edited: np.ndarray, attribute: str,
    strengths: Sequence[float], target_value=None,
) -> dict[str, object]:
    """What the probe sees in an edit grid: the change in the edited
    attribute and what the edit dragged along.

    Changes are measured against each face's reference column (strength 0,
    or the smallest): for a class factor the fraction of faces whose class
    changed; for a continuous factor the mean absolute change in units of
    the factor's standard deviation in the real data (1.0 = one std).

    Args:
        edited: `(n, len(strengths), H, W, C)` from `generate.edit`;
            strength 0 (or the smallest) is the reference.
        attribute: the edited factor.
        target_value: for an edit towards one class of a categorical
            factor (`hair_color=red`), that class: `attribute_mean` is
            then the share of faces read as it.

    Returns:
        `{"strengths", "attribute_mean": [mean probe reading per
        strength], "monotonic": bool, "target_change": [change of the
        attribute per strength], "leakage": {other factor: [change per
        strength]}, "max_leakage": {other factor: its largest change},
        "worst_leak": (factor, change) or None, "unchanged": {other class
        factor: [fraction of faces whose class equals the reference's,
        per strength]}, "min_unchanged": float}`.
    """
    edited = np.asarray(edited)
    n, s = edited.shape[:2]
    readings = probe.predict(edited.reshape((n * s,) + edited.shape[2:]))
    readings = {k: v.reshape(n, s) for k, v in readings.items()}
    ref = int(np.argmin(np.abs(np.asarray(strengths, float))))
    if attribute not in readings:
        raise ValueError(
            f"The probe does not read {attribute!r}. It reads: "
            f"{', '.join(sorted(readings))}"
        )
    target = readings[attribute]
    share = target_value is not None or find_factor(
        probe, attribute).is_discrete
    if target_value is not None:
        target = target == target_value
    means = target.astype(np.float64).mean(axis=0)
    changes = {f.name: _changes(f, readings[f.name], ref)
               for f in probe.factors}
    unchanged = {}
    for f in probe.factors:
        if f.is_discrete and f.name != attribute:
            unchanged[f.name] = [1.0 - v for v in changes[f.name]]
    leakage = {k: v for k, v in changes.items() if k != attribute}
    max_leakage = {k: max(v) for k, v in leakage.items()}
    worst = max(max_leakage.items(), key=lambda kv: kv[1], default=None)
    order = np.argsort(strengths)
    return {
        "strengths": [float(v) for v in strengths],
        "attribute_mean": [float(v) for v in means],
        "monotonic": _rises(means[order], share),
        "target_change": changes[attribute],
        "leakage": leakage,
        "max_leakage": max_leakage,
        "worst_leak": list(worst) if worst else None,
        "unchanged": unchanged,
        "min_unchanged": float(min(
            (min(v) for v in unchanged.values()), default=1.0
        )),
    }


def _rises(means: np.ndarray, share: bool) -> bool:
    """Whether readings rise at every step; for a share of faces (a
    class), a step from 100% to 100% counts: saturated, not stalled."""
    steps = np.diff(means) > 0
    if share:
        steps |= (means[:-1] >= 1.0) & (means[1:] >= 1.0)
    return bool(np.all(steps))


def _changes(factor, reading: np.ndarray, ref: int) -> list[float]:
    """Per strength: the share of faces whose class left the reference's
    (class factor), or the mean |change| in real-data stds (continuous)."""
    base = reading[:, ref:ref + 1]
    if factor.is_discrete:
        change = (reading != base).mean(axis=0)
    else:
        change = np.abs(reading.astype(np.float64) - base).mean(axis=0)
        change = change / max(factor.std, 1e-12)
    return [float(v) for v in change]
