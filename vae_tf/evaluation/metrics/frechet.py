"""Frechet distance between two sets of feature vectors (Heusel et al.
2017, arXiv:1706.08500), and how far a latent code distribution is from
the N(0, I) prior.

    FD = |m1 - m2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))

with (m, S) the mean and covariance of each set. The matrix square root's
trace is taken from the eigenvalues of S1^(1/2) S2 S1^(1/2), which is
symmetric positive semi-definite, so no general `sqrtm` is needed. Pure
NumPy on arrays; the feature network lives in `vae_tf.evaluation.probe`.
"""

from __future__ import annotations

import numpy as np


def _moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(
            "Expected features of shape (n, d) with n >= 2. Received: "
            f"{f.shape}"
        )
    if not np.isfinite(f).all():
        raise ValueError("features contain NaN or Inf values.")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], -1)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between the Gaussian fits of two feature sets.

    Args:
        features_a, features_b: `(n_a, d)` and `(n_b, d)` arrays.

    Returns:
        The squared Frechet distance, >= 0; 0 for identical moments.
    """
    m1, s1 = _moments(features_a)
    m2, s2 = _moments(features_b)
    if m1.shape != m2.shape:
        raise ValueError(
            f"Feature widths differ: {m1.shape[0]} vs {m2.shape[0]}."
        )
    root = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh(root @ s2 @ root)
    trace_sqrt = np.sqrt(np.clip(cross, 0.0, None)).sum()
    fd = np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    return float(max(fd, 0.0))


def aggregate_posterior_gap(z_mean: np.ndarray) -> dict[str, object]:
    """How far the codes `z_mean` `(n, K)` are spread from N(0, I).

    Returns:
        `{"z_mean_std": [K floats], "z_mean_std_mean": float,
        "gaussian_fit_kl": float}`: per-dimension standard deviations of
        the codes and KL(N(m, S) || N(0, I)) in nats of their Gaussian fit
        (m, S) = 0.5 (tr S + |m|^2 - K - log det S). Prior samples land
        where training codes are when this KL is small.
    """
    m, s = _moments(z_mean)
    k = len(m)
    sign, logdet = np.linalg.slogdet(s + 1e-9 * np.eye(k))
    kl = 0.5 * (np.trace(s) + m @ m - k - logdet) if sign > 0 else np.inf
    std = np.sqrt(np.diag(s))
    return {
        "z_mean_std": [float(v) for v in std],
        "z_mean_std_mean": float(std.mean()),
        "gaussian_fit_kl": float(kl),
    }
