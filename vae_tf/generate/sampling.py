"""Images from the latent density: `sample` decodes draws of a sampler
(one seed per row), `sample_served` calls an export's own `sample`
signature."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from vae_tf.generate.sources import (ModelSource, _load_saved_model,
                                     decoder_fn, latent_dim_of)


def sample(decoder: ModelSource, n: int, temperature: float = 1.0,
           seed: int = 0, sampler=None, seeds=None):
    """Decodes `n` latent draws of `sampler` (default: the N(0, I) prior).

    Draws come from `sampler.tf_sample` (stateless, one seed per row), the
    function the exported decoder's `sample` signature runs: row i is the
    draw of seed `seed + i`, so `sample(d, 8, seed=0)[i]` is
    `sample(d, 1, seed=i)[0]`, and a seed gives the same z here, in
    `vae-tf sample` and from TF Serving.

    Args:
        sampler: a `vae_tf.samplers` sampler, e.g. the run's
            `MixtureSampler` (`vae_tf.runs.run_sampler`).
        temperature: scales the deviation of z from the sampler's
            component means (the prior's is 0).
        seeds: the rows' seeds instead of `seed + i` (int `(n,)`).

    Returns:
        `(images, z)`: `(n, H, W, C)` and `(n, K)`.
    """
    from vae_tf.samplers import PriorSampler

    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"Expected n > 0 samples. Received: n={n!r}")
    if not temperature > 0:
        raise ValueError(
            f"Expected temperature > 0. Received: temperature={temperature!r}"
        )
    k = latent_dim_of(decoder)
    if sampler is None:
        sampler = PriorSampler(k)
    if sampler.latent_dim != k:
        raise ValueError(
            f"The sampler draws {sampler.latent_dim}-dimensional z, the "
            f"decoder takes {k}."
        )
    z = sampler.sample(n, seed, temperature, seeds=seeds).astype(np.float32)
    return decoder_fn(decoder)(z), z


def sample_served(decoder: ModelSource, n: int, seed: int = 0, seeds=None,
                  conditions=None):
    """Calls an exported decoder's own `sample` signature (the draws a TF
    Serving client gets) with the seeds `seed + i` (or `seeds`).

    Args:
        decoder: a loaded SavedModel or its path.
        conditions: a conditional decoder's factor values, `{factor:
            (n,)}` in the factors' own values
            (`vae_tf.export.condition_inputs`).

    Returns:
        `(images, z)`.
    """
    from vae_tf._internal.seeds import as_seeds, row_seeds

    if isinstance(decoder, (str, os.PathLike)):
        decoder = _load_saved_model(os.fspath(decoder))
    if "sample" not in getattr(decoder, "signatures", {}):
        raise ValueError(
            "sample_served needs an exported decoder SavedModel with a "
            "'sample' signature."
        )
    seeds = row_seeds(n, seed) if seeds is None else as_seeds(seeds)
    factors = {k: tf.constant(np.asarray(v, np.float32))
               for k, v in (conditions or {}).items()}
    out = decoder.signatures["sample"](seed=tf.constant(seeds, tf.int64),
                                       **factors)
    return out["image"].numpy(), out["z"].numpy()
