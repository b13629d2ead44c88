"""Model selection: the mixture size with the best held-out
log-likelihood of the validation codes."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vae_tf.samplers.fitting import fit_mixture
from vae_tf.samplers.mixture import MixtureSampler

COMPONENT_CANDIDATES = (1, 2, 5, 10, 20, 40)


def select_mixture(
    z_train: np.ndarray, z_val: np.ndarray,
    candidates: Sequence[int] = COMPONENT_CANDIDATES, seed: int = 0,
) -> MixtureSampler:
    """Fits one mixture per component count; keeps the one whose held-out
    mean log-likelihood on `z_val` is highest (recorded in `selection`)."""
    scores, best, best_score = {}, None, -np.inf
    for c in candidates:
        if c > len(z_train):
            continue
        model = fit_mixture(z_train, c, seed=seed)
        score = float(np.mean(model.log_prob(z_val)))
        scores[str(c)] = score
        if score > best_score:
            best, best_score = model, score
    best.selection = {
        "num_components": best.num_components,
        "validation_log_likelihood": scores,
    }
    return best
