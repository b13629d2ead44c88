"""`MixtureSampler`: an ex-post density (Ghosh et al. 2020, "From
Variational to Deterministic Autoencoders", arXiv:1903.12436), a
full-covariance Gaussian mixture over the training codes. When the
aggregate posterior is not N(0, I) (it rarely is), prior draws land where
no training image is encoded; mixture draws land where images are.
Fitted by `fitting.fit_mixture`, its size chosen by `selection`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

import numpy as np

from vae_tf.samplers.draws import temperature_column, row_draws
from vae_tf.samplers.prior import PriorSampler

if TYPE_CHECKING:
    import tensorflow as tf


class MixtureSampler(PriorSampler):
    """A Gaussian mixture over z with full covariances.

    Args:
        weights: `(C,)` mixing weights (summing to 1).
        means: `(C, K)`.
        covariances: `(C, K, K)` symmetric positive definite.
        selection: how `fit` chose C (validation log-likelihoods).
        condition_tables: a conditional model's class-conditional weights
            and mean shifts per class factor (`samplers.conditional`;
            `with_conditions` fits them); `{}` draws the same whatever
            the condition.
    """

    kind = "mixture"

    def __init__(self, weights, means, covariances,
                 selection: Optional[dict] = None,
                 condition_tables: Optional[dict] = None):
        self.weights = np.asarray(weights, np.float64)
        self.means = np.asarray(means, np.float64)
        self.covariances = np.asarray(covariances, np.float64)
        c, k = self.means.shape
        if self.weights.shape != (c,) or self.covariances.shape != (c, k, k):
            raise ValueError(
                "Inconsistent mixture shapes: weights "
                f"{self.weights.shape}, means {self.means.shape}, "
                f"covariances {self.covariances.shape}."
            )
        if not (np.isfinite(self.weights).all() and self.weights.min() >= 0):
            raise ValueError("Mixture weights must be finite and >= 0.")
        self.weights = self.weights / self.weights.sum()
        self.cholesky = np.linalg.cholesky(self.covariances)
        self.selection = selection or {}
        from vae_tf.samplers.conditional import check_tables

        self.condition_tables = check_tables(condition_tables or {}, c, k)
        super().__init__(k)

    @property
    def num_components(self) -> int:
        return len(self.weights)

    def log_prob(self, z: np.ndarray) -> np.ndarray:
        """log density of each row of `z` `(n, K)`, nats, `(n,)`."""
        return _logsumexp(_component_log_probs(
            np.asarray(z, np.float64), np.log(self.weights), self.means,
            self.cholesky,
        ))

    def responsibilities(self, z: np.ndarray) -> np.ndarray:
        """p(component | z) of each row of `z` `(n, K)`, `(n, C)`."""
        log_p = _component_log_probs(
            np.asarray(z, np.float64), np.log(self.weights), self.means,
            self.cholesky)
        resp = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        return resp / resp.sum(axis=1, keepdims=True)

    def with_conditions(self, z: np.ndarray, conditions) -> "MixtureSampler":
        """A copy whose draws follow the class factors: tables fitted on
        codes `z` `(n, K)` and their one-hot class `conditions`
        `{factor: (n, V)}` (`samplers.conditional`)."""
        from vae_tf.samplers.conditional import condition_tables

        return MixtureSampler(self.weights, self.means, self.covariances,
                              self.selection,
                              condition_tables(self, z, conditions))

    def tf_sample(self, seeds, temperature=1.0, conditions=None
                  ) -> tf.Tensor:
        """Row i: component c with probability `weights[c]` (u of
        `row_draws` against the cumulative weights), then `means[c] +
        temperature * cholesky[c] @ eps`; with `condition_tables` and
        `conditions` (`{factor: (n, V)}` encoded rows), weights and means
        follow row i's classes (`samplers.conditional`)."""
        import tensorflow as tf

        eps, u = row_draws(seeds, self.latent_dim)
        if self.condition_tables and conditions:
            from vae_tf.samplers.conditional import conditioned_sample

            return conditioned_sample(self, eps, u, temperature, conditions)
        edges = tf.constant(np.cumsum(self.weights)[None, :-1], tf.float32)
        component = tf.searchsorted(edges, u[None], side="right")[0]
        means = tf.gather(tf.constant(self.means, tf.float32), component)
        chol = tf.gather(tf.constant(self.cholesky, tf.float32), component)
        deviation = tf.linalg.matvec(chol, eps)
        return means + temperature_column(temperature) * deviation

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "latent_dim": self.latent_dim,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "selection": self.selection,
            "condition_tables": {
                name: {k: v.tolist() for k, v in table.items()}
                for name, table in self.condition_tables.items()},
        }


def _component_log_probs(z, log_weights, means, chol) -> np.ndarray:
    """log w_c + log N(z | m_c, L_c L_c^T), `(n, C)`."""
    n, k = z.shape
    inv_chol = np.linalg.inv(chol)  # (C, K, K), lower triangular
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    out = np.empty((n, len(means)))
    for c in range(len(means)):
        solved = (z - means[c]) @ inv_chol[c].T  # (n, K) whitened codes
        out[:, c] = log_weights[c] - 0.5 * (
            np.sum(solved**2, axis=1) + log_det[c] + k * math.log(2 * math.pi)
        )
    return out


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=1, keepdims=True)))[:, 0]
