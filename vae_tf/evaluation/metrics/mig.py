"""Mutual Information Gap (Chen et al. 2018, arXiv:1802.04942).

For each ground-truth factor v_k, the gap between the largest and second
largest mutual information I(z_j; v_k) over latent dimensions j, divided by
the factor's entropy H(v_k), then averaged over factors. 1 means every
factor is captured by exactly one latent; 0 means none, or shared.
Latents (posterior means) and continuous factors are discretised into 20
equal-width bins, as in disentanglement_lib.
"""

from __future__ import annotations

import numpy as np

from vae_tf.evaluation.metrics.utils import (check_codes_and_factors,
                                             discretize, entropy,
                                             mutual_information_matrix)


def mutual_information_gap(
    codes: np.ndarray, factors: np.ndarray, num_bins: int = 20
) -> dict[str, object]:
    """MIG of `codes` with respect to `factors`.

    Args:
        codes: posterior means, `(num_points, latent_dim)`.
        factors: ground-truth factors, `(num_points, num_factors)`.
        num_bins: histogram bins for continuous values.

    Returns:
        `{"mig": float, "mig_per_factor": list[float]}`.
    """
    codes, factors = check_codes_and_factors(codes, factors)
    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least 2 latent dimensions.")
    c = discretize(codes.T, num_bins)
    f = discretize(factors.T, num_bins)
    m = mutual_information_matrix(c, f)  # (latent_dim, num_factors)
    h = np.array([entropy(row) for row in f])
    top = np.sort(m, axis=0)[::-1]
    per_factor = np.where(h > 0, (top[0] - top[1]) / np.maximum(h, 1e-12), 0.0)
    return {
        "mig": float(per_factor.mean()),
        "mig_per_factor": [float(v) for v in per_factor],
    }
