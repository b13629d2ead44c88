"""Where generated images come from: latent samplers.

- `PriorSampler`: z ~ N(0, I), the VAE's prior.
- `MixtureSampler`: an ex-post density (Ghosh et al. 2020, "From
  Variational to Deterministic Autoencoders", arXiv:1903.12436): a
  full-covariance Gaussian mixture fitted by EM to the training set's
  `z_mean` after training. When the aggregate posterior is not N(0, I)
  (it rarely is), prior draws land where no training image is encoded;
  mixture draws land where images are.

Both draw with TensorFlow's stateless ops, one integer seed per row: row i
of a draw depends on `seeds[i]` alone (`row_draws`), so a batch of seeds
gives the same rows whatever other rows it is drawn with, which is what
TF Serving's batching needs (it concatenates the rows of several requests
into one call). `vae_tf.generate.sample`, `samples.png`, `vae-tf sample`
and the exported decoder's `sample` signature all run `tf_sample`, so a
seed gives the same z everywhere; `sample(n, seed)` draws the rows of
seeds `seed, seed + 1, ..., seed + n - 1` (`row_seeds`). A sampler is
stored in a run directory as `sampler.json` (plain numbers) and baked into
the exported decoder as constants. Fitting is NumPy (no extra dependency):
k-means++ seeding, EM with a small ridge on the covariances, and the
component count chosen by the mean log-likelihood of held-out codes.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from vae_tf import io_utils
from vae_tf.seeds import as_seeds, row_seeds

# TensorFlow is imported by the methods that draw, so that `SAMPLERS` and
# the NumPy fitting load without it (the `vae-tf` parser reads SAMPLERS).
if TYPE_CHECKING:
    import tensorflow as tf

COMPONENT_CANDIDATES = (1, 2, 5, 10, 20, 40)
SAMPLER_FILE = "sampler.json"


def row_draws(seeds, width: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-row stateless draws: `(eps, u)` with eps `(n, width)` ~ N(0, I)
    and u `(n,)` ~ U[0, 1), row i from `seeds[i]` (int64 `(n,)`) alone.

    `tf.random.stateless_normal` / `stateless_uniform` take one seed per
    call, so the rows are drawn one by one (`tf.map_fn` in a compiled
    function: about 13 us a row on one core, against 60 ms to decode 256
    rows); eps uses the seed pair `(seed, 0)`, u the pair `(seed, 1)`.
    """
    import tensorflow as tf

    seeds = tf.cast(tf.reshape(seeds, [-1]), tf.int64)
    return _row_draws_fn(int(width))(seeds)


@functools.lru_cache(maxsize=None)
def _row_draws_fn(width: int):
    """The compiled `row_draws` for one width (eager `map_fn` runs a
    Python loop: 1.8 ms a row)."""
    import tensorflow as tf

    def one_row(seed):
        eps = tf.random.stateless_normal(
            [width], seed=tf.stack([seed, tf.zeros_like(seed)]))
        u = tf.random.stateless_uniform(
            [], seed=tf.stack([seed, tf.ones_like(seed)]))
        return eps, u

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)],
                 autograph=False)
    def draws(seeds):
        return tf.map_fn(
            one_row, seeds,
            fn_output_signature=(tf.TensorSpec([width], tf.float32),
                                 tf.TensorSpec([], tf.float32)))

    return draws


class PriorSampler:
    """z ~ N(0, temperature^2 I), `(n, latent_dim)`."""

    kind = "prior"

    def __init__(self, latent_dim: int):
        self.latent_dim = int(latent_dim)

    def tf_sample(self, seeds, temperature=1.0) -> tf.Tensor:
        """Graph-friendly draw: one row `(latent_dim,)` per int64 seed of
        `seeds` `(n,)`; `temperature` a scalar or `(n,)`."""
        eps, _ = row_draws(seeds, self.latent_dim)
        return eps * _column(temperature)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0,
               seeds=None) -> np.ndarray:
        """`(n, latent_dim)` float32 draws, row i from seed `seed + i` (or
        from `seeds[i]` when given; `n` must then equal `len(seeds)`)."""
        import tensorflow as tf

        if seeds is None:
            seeds = row_seeds(n, seed)
        else:
            seeds = as_seeds(seeds)
            if len(seeds) != n:
                raise ValueError(
                    f"Expected one seed per row: n={n}, {len(seeds)} seeds.")
        return self.tf_sample(tf.constant(seeds, tf.int64),
                              temperature).numpy()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "latent_dim": self.latent_dim}


def _column(temperature) -> tf.Tensor:
    """A scalar or per-row `(n,)` temperature as float32 that broadcasts
    over `(n, K)` rows."""
    import tensorflow as tf

    temperature = tf.cast(temperature, tf.float32)
    if temperature.shape.rank == 1:
        return temperature[:, None]
    return temperature


class MixtureSampler(PriorSampler):
    """A Gaussian mixture over z with full covariances.

    Args:
        weights: `(C,)` mixing weights (summing to 1).
        means: `(C, K)`.
        covariances: `(C, K, K)` symmetric positive definite.
        selection: how `fit` chose C (validation log-likelihoods).
    """

    kind = "mixture"

    def __init__(self, weights, means, covariances,
                 selection: Optional[dict] = None):
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

    def tf_sample(self, seeds, temperature=1.0) -> tf.Tensor:
        """Row i: component c with probability `weights[c]` (u of
        `row_draws` against the cumulative weights), then `means[c] +
        temperature * cholesky[c] @ eps`."""
        import tensorflow as tf

        eps, u = row_draws(seeds, self.latent_dim)
        edges = tf.constant(np.cumsum(self.weights)[None, :-1], tf.float32)
        component = tf.searchsorted(edges, u[None], side="right")[0]
        means = tf.gather(tf.constant(self.means, tf.float32), component)
        chol = tf.gather(tf.constant(self.cholesky, tf.float32), component)
        deviation = tf.linalg.matvec(chol, eps)
        return means + _column(temperature) * deviation

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "latent_dim": self.latent_dim,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "selection": self.selection,
        }


# Config and CLI names, one per sampler class.
SAMPLERS = (MixtureSampler.kind, PriorSampler.kind)


def sampler_from_dict(values: dict):
    """Inverse of `to_dict` for either sampler."""
    kind = values.get("kind") if isinstance(values, dict) else None
    if kind == "prior":
        return PriorSampler(values["latent_dim"])
    if kind == "mixture":
        return MixtureSampler(
            values["weights"], values["means"], values["covariances"],
            values.get("selection"),
        )
    raise ValueError(
        f"Unknown sampler kind {kind!r}. Choose one of: {', '.join(SAMPLERS)}"
    )


def save_sampler(sampler, path: str) -> None:
    """Writes the sampler as JSON, atomically."""
    io_utils.atomic_write_text(path, json.dumps(sampler.to_dict()) + "\n")


def load_sampler(path: str):
    """Reads a `save_sampler` file; `ValueError` if it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            return sampler_from_dict(json.load(f))
    except FileNotFoundError:
        raise FileNotFoundError(f"Sampler file not found: {path}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path} is not a vae_tf sampler file ({err}). Delete it to use "
            "the prior, or refit it."
        ) from None


# -- fitting ----------------------------------------------------------------


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
