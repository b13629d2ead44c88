"""`FlowSampler`: a normalizing flow over the training codes, a RealNVP
(Dinh et al. 2017, arXiv:1605.08803) built from `tfp.bijectors`.

z = standardize^-1(f_L(... f_1(eps))), eps ~ N(0, I): each `f` is an
affine coupling (`tfb.RealNVP`) that shifts and scales one half of the
code by a small MLP of the other half, the halves swapped between layers
(`tfb.Permute`); the first bijector undoes the codes' per-dimension
standardisation. Unlike the Gaussian mixture, a flow bends its density to
curved, non-Gaussian shapes of the aggregate posterior.

The MLP weights are plain arrays: the sampler is stored as numbers
(`to_dict`), and `tf_sample` builds the bijectors from constants, so the
exported `sample` signature is a pure TensorFlow graph (no vae_tf, no
TFP at serving time), drawn statelessly with one seed per row like every
sampler (`draws`). `fit_flow` trains it by maximum likelihood with Adam
on the training codes, keeping the weights with the best held-out
log-likelihood (early stopping).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

import numpy as np

from vae_tf.samplers.draws import row_draws, temperature_column
from vae_tf.samplers.prior import PriorSampler

if TYPE_CHECKING:
    import tensorflow as tf

# One coupling layer's conditioner: two hidden ReLU layers, then the
# shift and raw log-scale of the other half.
WEIGHT_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")
# |log scale| of one coupling stays below this (a bounded tanh): no layer
# can blow a code up or squash it to a point.
MAX_LOG_SCALE = 2.0


class FlowSampler(PriorSampler):
    """A RealNVP density over z.

    Args:
        mean, std: `(K,)` the training codes' moments (standardisation).
        layers: one dict of conditioner weights (`WEIGHT_NAMES`) per
            coupling layer, first applied to the noise first.
        selection: how it was fitted (steps, held-out log-likelihood).
    """

    kind = "flow"

    def __init__(self, mean, std, layers: list[dict],
                 selection: Optional[dict] = None):
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        k = self.mean.shape[0]
        if self.mean.shape != (k,) or self.std.shape != (k,) or k < 2:
            raise ValueError(
                f"Expected mean and std of one shape (K,), K >= 2. "
                f"Received: {self.mean.shape}, {self.std.shape}")
        if not (np.all(np.isfinite(self.std)) and np.all(self.std > 0)):
            raise ValueError("Expected a positive finite std per dimension.")
        self.layers = [{n: np.asarray(layer[n], np.float32)
                        for n in WEIGHT_NAMES} for layer in layers]
        if not self.layers:
            raise ValueError("A flow needs at least one coupling layer.")
        self.selection = selection or {}
        super().__init__(k)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def bijector(self, weights: Optional[list] = None):
        """The flow `tfb.Chain` (noise -> z), its conditioners reading
        `weights` (default: this sampler's arrays as constants; `fit_flow`
        passes its variables)."""
        import tensorflow as tf
        import tensorflow_probability as tfp

        tfb = tfp.bijectors
        weights = weights or [
            {n: tf.constant(v) for n, v in layer.items()}
            for layer in self.layers]
        k, half = self.latent_dim, self.latent_dim // 2
        swap = np.concatenate([np.arange(half, k), np.arange(half)])
        steps = [tfb.Shift(self.mean), tfb.Scale(self.std)]
        # Chain applies its last bijector first: the noise meets the
        # first coupling, the standardisation comes last.
        for i, layer in reversed(list(enumerate(weights))):
            steps.append(tfb.RealNVP(
                num_masked=half, shift_and_log_scale_fn=_conditioner(layer),
                name=f"coupling_{i}"))
            if i:
                steps.append(tfb.Permute(swap))
        return tfb.Chain(steps)

    def tf_sample(self, seeds, temperature=1.0, conditions=None
                  ) -> tf.Tensor:
        """Row i: the flow at `temperature * eps`, eps the row's N(0, I)
        draw (a temperature below 1 draws from the density's core);
        `conditions` are not used (the flow is not class-conditional)."""
        eps, _ = row_draws(seeds, self.latent_dim)
        return self.bijector().forward(eps * temperature_column(temperature))

    def log_prob(self, z: np.ndarray) -> np.ndarray:
        """log density of each row of `z` `(n, K)`, nats, `(n,)`."""
        import tensorflow as tf

        z = tf.constant(np.asarray(z, np.float32))
        return _log_prob(self.bijector(), z).numpy().astype(np.float64)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "latent_dim": self.latent_dim,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "layers": [{n: v.tolist() for n, v in layer.items()}
                       for layer in self.layers],
            "selection": self.selection,
        }


def _conditioner(layer: dict):
    """`shift_and_log_scale_fn` of one coupling, reading `layer`'s
    weights (constants or variables)."""
    import tensorflow as tf

    def fn(x, output_units, **kwargs):
        h = tf.nn.relu(tf.matmul(x, layer["w1"]) + layer["b1"])
        h = tf.nn.relu(tf.matmul(h, layer["w2"]) + layer["b2"])
        out = tf.matmul(h, layer["w3"]) + layer["b3"]
        shift, raw = out[..., :output_units], out[..., output_units:]
        return shift, MAX_LOG_SCALE * tf.tanh(raw / MAX_LOG_SCALE)

    return fn


def _log_prob(bijector, z):
    """log N(f^-1(z); 0, I) + log |det d f^-1 / dz|, `(n,)`."""
    import tensorflow as tf

    eps = bijector.inverse(z)
    base = -0.5 * tf.reduce_sum(eps ** 2, axis=-1) - 0.5 * tf.cast(
        tf.shape(z)[-1], tf.float32) * np.log(2 * np.pi).astype(np.float32)
    return base + bijector.inverse_log_det_jacobian(z, event_ndims=1)


def _initial_layers(k: int, num_layers: int, hidden: int, rng) -> list:
    """He-initialised conditioners whose last layer starts near zero (each
    coupling starts near the identity)."""
    half, rest = k // 2, k - k // 2
    layers = []
    for _ in range(num_layers):
        layers.append({
            "w1": rng.normal(size=(half, hidden)) * np.sqrt(2.0 / half),
            "b1": np.zeros(hidden),
            "w2": rng.normal(size=(hidden, hidden)) * np.sqrt(2.0 / hidden),
            "b2": np.zeros(hidden),
            "w3": rng.normal(size=(hidden, 2 * rest)) * 1e-3,
            "b3": np.zeros(2 * rest),
        })
    return layers


def fit_flow(
    z_train: np.ndarray, z_val: np.ndarray, num_layers: int = 6,
    hidden: int = 128, steps: int = 3000, batch_size: int = 256,
    learning_rate: float = 2e-3, seed: int = 0, check_every: int = 250,
) -> FlowSampler:
    """Maximum likelihood RealNVP on the rows of `z_train` `(n, K)`.

    Adam on minibatches for at most `steps` steps; every `check_every`
    steps the mean log-likelihood of `z_val` is measured and the best
    weights kept (`selection` records it, the step, and the seconds).
    Deterministic for a seed (NumPy initialisation and batch order).
    """
    import keras
    import tensorflow as tf

    z_train, z_val = _code_pair(z_train, z_val)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    mean, std = z_train.mean(0), np.maximum(z_train.std(0), 1e-3)
    variables = [{n: tf.Variable(v.astype(np.float32), name=n)
                  for n, v in layer.items()}
                 for layer in _initial_layers(z_train.shape[1], num_layers,
                                              hidden, rng)]
    flow = FlowSampler(mean, std, _snapshot(variables))
    bijector = flow.bijector(variables)
    trainable = [v for layer in variables for v in layer.values()]
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(_log_prob(bijector, batch))
        optimizer.apply_gradients(zip(tape.gradient(loss, trainable),
                                      trainable))

    @tf.function
    def held_out(codes):
        return tf.reduce_mean(_log_prob(bijector, codes))

    val = tf.constant(z_val)
    best, best_step, history = -np.inf, 0, {}
    best_layers = _snapshot(variables)
    order = np.empty(0, np.int64)
    for i in range(1, steps + 1):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(z_train))])
        batch, order = order[:batch_size], order[batch_size:]
        step(tf.constant(z_train[batch]))
        if i % check_every == 0 or i == steps:
            score = float(held_out(val))
            history[str(i)] = score
            if np.isfinite(score) and score > best:
                best, best_step = score, i
                best_layers = _snapshot(variables)
    return FlowSampler(mean, std, best_layers, selection={
        "validation_log_likelihood": best, "best_step": best_step,
        "steps": steps, "num_layers": num_layers, "hidden": hidden,
        "seconds": round(time.perf_counter() - start, 1),
        "history": history,
    })


def _snapshot(variables) -> list[dict]:
    """The coupling layers' current weights, as NumPy arrays."""
    return [{n: v.numpy() for n, v in layer.items()} for layer in variables]


def _code_pair(z_train, z_val) -> tuple[np.ndarray, np.ndarray]:
    """Both code sets checked: finite float rows of one width K >= 2."""
    z_train = _codes(z_train, "z_train")
    z_val = _codes(z_val, "z_val")
    if z_train.shape[1] != z_val.shape[1] or z_train.shape[1] < 2:
        raise ValueError(
            f"Expected codes of one width K >= 2. Received: "
            f"{z_train.shape}, {z_val.shape}")
    return z_train, z_val


def _codes(z, name: str) -> np.ndarray:
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or not np.isfinite(z).all() or len(z) < 2:
        raise ValueError(
            f"Expected finite codes {name} of shape (n, K), n >= 2. "
            f"Received: {z.shape}")
    return z
