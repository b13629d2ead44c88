"""EM for a full-covariance Gaussian mixture, in NumPy: k-means++
seeding, a small ridge on the covariances."""

from __future__ import annotations

import math

import numpy as np

from vae_tf.samplers.mixture import (MixtureSampler, _component_log_probs,
                                     _logsumexp)


def fit_mixture(
    z: np.ndarray, num_components: int, seed: int = 0, max_iter: int = 100,
    tol: float = 1e-4, ridge: float = 1e-4,
) -> MixtureSampler:
    """EM for a full-covariance Gaussian mixture on rows of `z` `(n, K)`.

    Args:
        num_components: C, at most n.
        max_iter: at most this many EM steps (`em_iterations` of the
            result says how many ran).
        tol: stop when the mean log-likelihood gains less (nats/code).
        ridge: added to every covariance's diagonal, times the data's
            mean variance (keeps components positive definite).
    """
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or not np.isfinite(z).all():
        raise ValueError(
            f"Expected finite codes of shape (n, K). Received: {z.shape}"
        )
    n, k = z.shape
    if not 1 <= num_components <= n:
        raise ValueError(
            f"Expected 1 <= num_components <= {n} codes. Received: "
            f"num_components={num_components}"
        )
    rng = np.random.default_rng(seed)
    eps = ridge * max(float(z.var(axis=0).mean()), 1e-12) * np.eye(k)
    means = _kmeans_pp(z, num_components, rng)
    covariances = np.repeat((np.cov(z, rowvar=False).reshape(k, k) + eps)[None],
                            num_components, axis=0)
    log_weights = np.full(num_components, -math.log(num_components))
    previous = -np.inf
    iterations = 0
    for iterations in range(1, max_iter + 1):
        chol = np.linalg.cholesky(covariances)
        joint = _component_log_probs(z, log_weights, means, chol)
        total = _logsumexp(joint)
        mean_ll = float(total.mean())
        resp = np.exp(joint - total[:, None])  # (n, C)
        counts = resp.sum(axis=0) + 1e-10
        log_weights = np.log(counts / n)
        means = (resp.T @ z) / counts[:, None]
        for c in range(num_components):
            d = z - means[c]
            covariances[c] = (resp[:, c, None] * d).T @ d / counts[c] + eps
        if mean_ll - previous < tol:
            break
        previous = mean_ll
    fitted = MixtureSampler(np.exp(log_weights), means, covariances)
    fitted.em_iterations = iterations  # EM steps run (not saved)
    return fitted


def _kmeans_pp(z: np.ndarray, count: int, rng) -> np.ndarray:
    """k-means++ seeds (Arthur & Vassilvitskii 2007), `(count, K)`."""
    centres = [z[rng.integers(len(z))]]
    dist = np.sum((z - centres[0]) ** 2, axis=1)
    for _ in range(1, count):
        total = dist.sum()
        probs = dist / total if total > 0 else None
        centres.append(z[rng.choice(len(z), p=probs)])
        dist = np.minimum(dist, np.sum((z - centres[-1]) ** 2, axis=1))
    return np.array(centres)
