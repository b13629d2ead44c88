"""A run's pictures: what `vae-tf sample|reconstruct|interpolate|traverse|
edit|evaluate` draw. Each function takes a `vae_tf.runs.Run` (or a
decoder), computes the images with `vae_tf.generate`, lays them out with
`png` (grids) or `charts` (plots) and returns the path it wrote.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from vae_tf import generate
from vae_tf.pictures import charts, conditional, png
from vae_tf.runs import LATENT_SCATTER_FILE, LOSS_CURVES_FILE, Run


def sample_png(decoder, out: str, n: int = 32, temperature: float = 1.0,
               seed: int = 0, sampler=None) -> str:
    """Samples as a grid of up to 4 rows; `decoder` as in `generate`.

    `sampler=None` with an exported decoder at temperature 1 runs the
    SavedModel's own `sample` signature; otherwise z comes from `sampler`
    (default the prior).
    """
    served = sampler is None and temperature == 1.0 and isinstance(
        decoder, (str, os.PathLike)
    )
    if served:
        images, _ = generate.sample_served(decoder, n, seed)
    else:
        images, _ = generate.sample(decoder, n, temperature, seed, sampler)
    png.save_grid(out, images, rows=max(1, min(4, n // 4)))
    return out


def run_samples_png(run, out: Optional[str] = None,
                    n: int = 32, temperature: float = 1.0, seed: int = 0,
                    sampler: Optional[str] = None,
                    decoder: Optional[str] = None,
                    settings: Optional[str] = None) -> str:
    """`vae-tf sample`: `sample_png` of a run (a `Run`, or a function
    returning one: its decoder and sampler, `sampler` naming another;
    default file in its `outputs`), or of an exported `decoder` (default
    `samples.png`), whose `sample` signature already holds the sampler it
    was exported with. A conditional run decodes every draw under
    `settings` (`"glasses=1,hair_color=red"`, one value per factor)."""
    if decoder:
        if sampler == "mixture":
            raise ValueError(
                "--sampler mixture needs RUN_DIR's sampler.json; an "
                "exported decoder's sample signature already holds the "
                "sampler it was exported with (omit --sampler)."
            )
        specs = export_specs(decoder)
        if specs or settings:
            return served_conditional_png(decoder, specs, out, n,
                                          temperature, seed, settings)
        return sample_png(decoder, out or "samples.png", n, temperature,
                          seed, sampler)
    run = run() if callable(run) else run
    if run.config.condition is not None or settings is not None:
        return conditional_samples_png(
            run, out or run.outputs.tempered_samples(temperature), n,
            temperature, seed, run.sampler(sampler), settings)
    return sample_png(run.models.decoder,
                      out or run.outputs.tempered_samples(temperature), n,
                      temperature, seed, run.sampler(sampler))


def export_specs(decoder: str) -> list:
    """The `ConditionSpec`s an exported model records in `vae_tf.json`
    (`[]`: unconditional, or no such file)."""
    import json

    from vae_tf.data.conditions import read_specs
    from vae_tf.export.layout import (ASSETS_EXTRA, METADATA_FILE,
                                      resolve_version_dir)

    path = os.path.join(resolve_version_dir(os.fspath(decoder)),
                        ASSETS_EXTRA, METADATA_FILE)
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        config = json.load(f).get("config", {})
    if not config.get("condition"):
        return []
    return read_specs(config["condition"], config.get("condition_specs"))


def served_conditional_png(decoder: str, specs, out: Optional[str], n: int,
                           temperature: float, seed: int,
                           settings: Optional[str]) -> str:
    """`vae-tf sample --decoder D --set ...`: the exported conditional
    decoder's own `sample` signature, every draw under `settings`."""
    from vae_tf.data.conditions import parse_settings

    if not specs:
        raise ValueError(f"--set needs a conditional model; {decoder} was "
                         "exported from an unconditional run.")
    if not settings:
        raise ValueError(
            f"{decoder} is conditioned on "
            f"{', '.join(s.name for s in specs)}: give every draw's values "
            "with --set, e.g. --set "
            + ",".join(f"{s.name}=..." for s in specs))
    if temperature != 1.0:
        raise ValueError("An exported conditional decoder draws at "
                         "temperature 1 (its sample signature); omit "
                         "--temperature or sample RUN_DIR.")
    values = parse_settings(settings, specs)
    images, _ = generate.sample_served(
        decoder, n, seed,
        conditions={k: np.full(n, v, np.float32) for k, v in values.items()})
    out = out or "samples.png"
    png.save_grid(out, images, rows=max(1, min(4, n // 4)))
    return out


def conditional_samples_png(run: Run, out: str, n: int, temperature: float,
                            seed: int, sampler, settings: Optional[str]):
    """Draws of a conditional run's `sampler`, each decoded under the
    factor values of `settings`; a grid of up to 4 rows."""
    from vae_tf.data.conditions import encode_conditions, parse_settings

    if run.config.condition is None:
        raise ValueError(
            "--set needs a conditional run (trained with --condition); "
            "this one is not.")
    specs = run.config.specs()
    if not settings:
        raise ValueError(
            f"The run is conditioned on {', '.join(run.config.condition)}:"
            " give every draw's values with --set, e.g. --set "
            + ",".join(f"{s.name}=..." for s in specs))
    values = parse_settings(settings, specs)
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"Expected n > 0 samples. Received: n={n!r}")
    conditions = encode_conditions(
        specs, {k: np.full(n, v) for k, v in values.items()})
    z = sampler.sample(n, seed, temperature, conditions=conditions)
    images = run.models.decoder.predict({"z": z, **conditions},
                                        verbose=0)
    png.save_grid(out, images, rows=max(1, min(4, n // 4)))
    return out


def reconstruct_png(run: Run, out: Optional[str] = None, n: int = 8,
                    split: str = "test", seed: int = 0) -> str:
    """Rows: originals over their reconstructions (a conditional run's
    each under its own factors)."""
    if run.config.condition is not None:
        x, recon = conditional.reconstruct(run, split,
                                           run.pick(split, n, seed))
    else:
        x = run.images(split, n, seed)
        recon = generate.reconstruct(run.models.encoder, run.models.decoder,
                                     x)
    path = out or run.outputs.split_reconstructions(split)
    png.save_rows(path, np.stack([x, recon]))
    return path


def interpolate_png(run: Run, out: Optional[str] = None, pairs: int = 4,
                    steps: int = 10, method: str = "slerp",
                    split: str = "test", seed: int = 0) -> str:
    """One strip per image pair, endpoints are the reconstructions (a
    conditional run's factors move from one image's to the other's)."""
    if run.config.condition is not None:
        index = run.pick(split, 2 * pairs, seed)
        images = conditional.interpolate(
            run, split, index[:pairs], index[pairs:2 * pairs], steps, method)
    else:
        x = run.images(split, 2 * pairs, seed)
        images, _ = generate.interpolate(
            run.models.encoder, run.models.decoder, x[:pairs],
            x[pairs:2 * pairs], steps, method,
        )
    path = out or run.outputs.interpolation(method)
    png.save_rows(path, images)
    return path


def most_informative_dims(run: Run, count: int,
                          split: str = "test") -> list[int]:
    """Latent dimensions with the largest mean KL on `split` (up to 500
    images), most informative first."""
    from vae_tf.distributions.gaussian import kl_per_dimension

    from vae_tf.data.conditions import model_inputs

    index = run.pick(split, 500, 0)
    x = run.split_images(split)[index]
    attrs = {k: np.asarray(v)[index] for k, v in
             getattr(run.data, split).attributes.items()}
    z_mean, z_log_var, _ = run.models.encoder.predict(
        model_inputs(run.config.specs(), x, attrs), verbose=0)
    kl = kl_per_dimension(z_mean, z_log_var).numpy().mean(axis=0)
    return [int(d) for d in np.argsort(kl)[::-1][:count]]


def traverse_png(run: Run, out: Optional[str] = None,
                 dims: Optional[Sequence[int]] = None,
                 values: Sequence[float] = tuple(np.linspace(-3, 3, 9)),
                 index: Optional[int] = None, split: str = "test") -> str:
    """Rows: latent dimensions; columns: values. Starts from the prior mean
    (z = 0), or from the code of image `index` of `split` (a conditional
    run: under the factors of image `index`, default 0)."""
    if dims is None:
        dims = most_informative_dims(run, min(8, run.config.latent_dim), split)
    if run.config.condition is not None:
        z = None if index is not None else np.zeros(run.config.latent_dim)
        images = conditional.traverse(run, split, index or 0, dims, values,
                                      z)
    else:
        z = np.zeros(run.config.latent_dim, np.float32)
        if index is not None:
            z = generate.encoder_fn(run.models.encoder)(
                run.split_images(split)[index:index + 1])[0]
        images = generate.traverse(run.models.decoder, z, dims, values)
    path = out or run.outputs.traversal()
    png.save_rows(path, images)
    return path


def attribute_labels(run: Run, split: str, name: str) -> np.ndarray:
    """0/1 labels of attribute `name`; continuous ones split at the median;
    `name=value` (`hair_color=red`, `hair_color=3`) labels one value of a
    categorical attribute against the rest."""
    factor, value = split_attribute(run, name)
    attrs = getattr(run.data, split).attributes
    if value is not None:
        return (np.asarray(attrs[factor]) == value).astype(np.int32)
    return generate.attribute_labels(attrs[factor])


def split_attribute(run: Run, name: str):
    """`(factor, value)` of an edit's attribute: `("smile", None)`, or
    `("hair_color", 3)` for `hair_color=red`; raises `ValueError` naming
    the available attributes or values."""
    from vae_tf.data.conditions import ConditionError, condition_specs

    factor, sep, text = name.partition("=")
    attrs = run.data.train.attributes
    if factor not in attrs:
        raise ValueError(
            f"Data set {run.config.data!r} has no attribute {factor!r}. "
            f"Available: {', '.join(sorted(attrs)) or 'none'}"
        )
    if not sep:
        return factor, None
    (spec,) = condition_specs([factor], attrs, run.config.data)
    if spec.kind != "class":
        raise ValueError(
            f"{factor} is continuous: edit it without a value "
            f"(--attribute {factor}).")
    try:
        return factor, spec.value_of(text)
    except ConditionError as e:
        raise ValueError(str(e)) from None


# The ways `vae-tf edit` moves a face: along a direction in latent space
# (`edit_vectors`; unconditional runs), or through a conditional run's
# condition input (`conditional.edit`).
EDIT_WAYS = ("vector", "dimension", "condition")


def edit_vectors(run: Run, attribute: str) -> dict[str, np.ndarray]:
    """Way -> edit direction `(K,)` for `attribute`, from the codes of up
    to 5,000 training images (validation when the training split is
    streamed): `vector`, the attribute vector (mean code with minus
    without); `dimension`, that difference in the one latent dimension
    best aligned with the attribute (`generate.best_dimension_vector`)."""
    source = "train" if run.data.train.images is not None else "validation"
    labels = attribute_labels(run, source, attribute)[:5000]
    x = run.split_images(source)[:5000]
    z = generate.encoder_fn(run.models.encoder)(x)
    vector = generate.code_difference(z, labels)  # refuses one-sided labels
    _, along_one = generate.best_dimension_vector(z, labels)
    return {"vector": vector, "dimension": along_one}


def edit_png(run: Run, attribute: str, out: Optional[str] = None,
             strengths: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
             n: int = 6, split: str = "test", seed: int = 0,
             measure: int = 200, way: Optional[str] = None):
    """Rows: images without the attribute; columns: increasing strength of
    the edit `way` (`EDIT_WAYS`; default `vector`, or `condition` for a
    conditional run, the only way it takes), 0 = plain reconstruction;
    the first column is the original.

    Returns:
        `(path, effects)`: `effects` maps every way the run takes to
        `vae_tf.evaluation.quality.edit_effect` on the same `measure`
        edited images of `split` (the attribute's change per strength and
        what the edit dragged along), or is `None` when the probe cannot
        read the attribute.
    """
    ways = _edit_ways(run, way)
    way = way or ways[0]
    labels = attribute_labels(run, split, attribute)
    without = np.where(labels == 0)[0]
    pick = np.sort(np.random.default_rng(seed).choice(
        without, min(n, len(without)), replace=False))
    factor, value = split_attribute(run, attribute)
    x = run.split_images(split)
    if ways == ("condition",):
        edits = {"condition": lambda index: conditional.edit(
            run, split, index, factor, value, strengths)}
    else:
        vectors = edit_vectors(run, attribute)
        edits = {w: (lambda index, v=v: generate.edit(
            run.models.encoder, run.models.decoder, x[index], v, strengths))
            for w, v in vectors.items()}
    images = edits[way](pick)
    path = out or run.outputs.edit(attribute)
    png.save_rows(path, np.concatenate([x[pick][:, None], images], axis=1))
    effects = {w: measure_edit(run, factor, make, strengths, without,
                               measure, seed, value)
               for w, make in edits.items()}
    if any(e is None for e in effects.values()):
        return path, None
    return path, effects


def _edit_ways(run: Run, way: Optional[str]) -> tuple[str, ...]:
    """The ways `run` can be edited; `ValueError` if `way` is not one."""
    if way is not None and way not in EDIT_WAYS:
        raise ValueError(f"Unknown edit way {way!r}. Choose one of: "
                         f"{', '.join(EDIT_WAYS)}")
    ways = (("condition",) if run.config.condition is not None
            else ("vector", "dimension"))
    if way is not None and way not in ways:
        raise ValueError(
            f"--way {way} needs "
            + ("a run trained with --condition." if way == "condition" else
               "an unconditional run: a conditional run is edited through "
               "its condition input (--way condition)."))
    return ways


def measure_edit(run: Run, attribute, make_edit, strengths, candidates,
                 count: int, seed: int, value=None):
    """`quality.edit_effect` on `make_edit(rows)` for up to `count` of the
    `candidates` rows (`value`: the class an edit of a categorical
    attribute aims at)."""
    from vae_tf.evaluation.probe import find_factor, probe_for
    from vae_tf.evaluation.quality import edit_effect

    try:
        probe = probe_for(run.data, verbose=False, search=(run.dir,))
    except ValueError:  # no attributes a probe can learn
        return None
    if find_factor(probe, attribute) is None:
        return None
    pick = np.random.default_rng(seed + 1).choice(
        candidates, min(count, len(candidates)), replace=False
    )
    edited = make_edit(np.sort(pick))
    return edit_effect(probe, edited, attribute, strengths, value)


def describe_edit(effects: dict) -> str:
    """What `vae-tf edit` prints: per way, the attribute's probe reading
    and change per strength, then a leakage table: for every other
    attribute its largest change over the strengths (class factors: share
    of faces whose class changed; continuous: mean |change| in real-data
    standard deviations)."""
    lines = []
    for way, effect in effects.items():
        pairs = ", ".join(
            f"{s:g}: {m:.3f}"
            for s, m in zip(effect["strengths"], effect["attribute_mean"]))
        lines.append(
            f"{way}: probe reading per strength ({pairs}); rises "
            f"monotonically: {'yes' if effect['monotonic'] else 'NO'}; "
            f"worst leak: {_leak(effect['worst_leak'])}")
    ways = list(effects)
    others = list(next(iter(effects.values()))["max_leakage"])
    width = max([len(o) for o in others] + [9])
    lines.append("largest change of the other attributes (classes: share "
                 "changed; continuous: stds)")
    lines.append(" " * width + "".join(f"{w:>11}" for w in ways))
    for other in others:
        lines.append(f"{other:<{width}}" + "".join(
            f"{effects[w]['max_leakage'][other]:>11.3f}" for w in ways))
    kept = ", ".join(
        f"{k} {min(v):.1%}"
        for k, v in effects[ways[0]]["unchanged"].items())
    lines.append(f"unchanged at every strength ({ways[0]}, worst case): "
                 f"{kept or 'n/a'}")
    return "\n".join(lines)


def _leak(worst) -> str:
    return "none" if not worst else f"{worst[0]} {worst[1]:.3f}"


def evaluation_plots(run: Run, split: str, folder: str) -> None:
    """`latent_scatter.png` (up to 2,000 codes of `split`, coloured by the
    label or first attribute) and `loss_curves.png` from `history.csv`."""
    x = run.split_images(split)[:2000]
    attrs = getattr(run.data, split).attributes
    name = next((n for n in ("label", "smile", "shape") if n in attrs),
                next(iter(attrs), None))
    from vae_tf.data.conditions import model_inputs

    z = run.models.encoder.predict(
        model_inputs(run.config.specs(), x, attrs), verbose=0,
        batch_size=256)[0]
    color = attrs[name][:len(x)] if name else np.zeros(len(x))
    charts.save_latent_scatter(
        os.path.join(folder, LATENT_SCATTER_FILE), z, color, name or "none"
    )
    history = run.history()
    if history:
        charts.save_loss_curves(
            os.path.join(folder, LOSS_CURVES_FILE), history
        )
