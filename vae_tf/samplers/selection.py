"""Model selection on held-out data: the mixture size (best validation
log-likelihood of the codes), and, for `sampler="auto"`, the ex-post
sampler whose decoded draws score best on the validation split.

Why two criteria: the codes' held-out log-likelihood ranks mixtures of
one family well, but not a mixture against a flow: on the default faces
model (10 epochs, benchmarks/README.md, "Samplers") the flows reached
-6.7 nats of validation log-likelihood and sample FD 2.3-2.6, the
40-component mixture -9.4 nats and FD 2.0. Choosing between samplers
therefore uses the quantity users see, measured on held-out images: the
Frechet distance in the data set's probe feature space between decoded
draws and the validation images (`criterion`), which ranks the samplers
as the test split's FD does. Data without a probe (no labels) falls back
to the validation log-likelihood.
"""

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


# `VAEConfig.sampler` values: a sampler kind, or the held-out choice.
AUTO = "auto"


def choose(candidates: dict, scores: dict[str, float],
           criterion: str, lower_is_better: bool) -> tuple[str, dict]:
    """`(chosen kind, selection record)` from `scores` per candidate."""
    sign = 1.0 if lower_is_better else -1.0
    finite = {k: v for k, v in scores.items() if np.isfinite(v)}
    chosen = min(finite, key=lambda k: sign * finite[k]) if finite else \
        next(iter(candidates))
    return chosen, {"criterion": criterion, "scores": scores,
                    "chosen": chosen,
                    "lower_is_better": lower_is_better}
