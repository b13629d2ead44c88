"""Class-conditional mixture draws for a conditional VAE (issue 29).

A conditional VAE's encoder sees the condition, yet its codes still carry
the classes (beard, hair colour): drawing z from the mixture over all
training codes and decoding it with `beard=1` decodes a code that mostly
says "no beard" (measured on the default faces run conditioned on
glasses, beard, hair_color, smile: 73% of beard=1 draws bearded; drawing
z from codes of bearded faces instead: 98%). So the mixture's draws are
conditioned on the class factors too:

    p(z | c) = sum_k pi_k(c) N(z | mu_k(c), Sigma_k)

with, for each class factor f and value v, from the training codes'
responsibilities r_ik (smoothed towards the marginal by one pseudo-code):

    pi_k(v) = (sum_{i: c_if = v} r_ik + pi_k) / (n_v + 1)
    mu_k(v) = (sum_{i: c_if = v} r_ik z_i + pi_k mu_k) / (sum r_ik + pi_k)

combined over factors as independent evidence: log pi_k(c) = log pi_k +
sum_f [log pi_k(c_f) - log pi_k] (normalised), mu_k(c) = mu_k + sum_f
[mu_k(c_f) - mu_k]. The tables act on the encoded (one-hot) condition
linearly, so a condition between two classes (an edit) blends them; a
factor left out, or a continuous one, draws from its marginal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

# Pseudo-codes that pull a class's weights and means towards the marginal.
SMOOTHING = 1.0


def condition_tables(mixture, z: np.ndarray,
                     conditions: Mapping[str, np.ndarray]) -> dict:
    """Per class factor `{"log_ratios": (V, C), "shifts": (V, C, K)}`
    (`log pi_k(v) - log pi_k`, `mu_k(v) - mu_k`) from codes `z` `(n, K)`
    and their one-hot `conditions` `{factor: (n, V)}`."""
    z = np.asarray(z, np.float64)
    resp = mixture.responsibilities(z)  # (n, C)
    prior_w, prior_mu = mixture.weights, mixture.means
    tables = {}
    for name, one_hot in conditions.items():
        one_hot = np.asarray(one_hot, np.float64)
        ratios, shifts = [], []
        for column in one_hot.T:
            r = resp * column[:, None]  # (n, C): rows of this value
            mass = r.sum(axis=0)
            weights = (mass + SMOOTHING * prior_w) / (column.sum() + SMOOTHING)
            means = (r.T @ z + SMOOTHING * prior_w[:, None] * prior_mu) / (
                mass + SMOOTHING * prior_w)[:, None]
            ratios.append(np.log(weights) - np.log(prior_w))
            shifts.append(means - prior_mu)
        tables[name] = {"log_ratios": np.asarray(ratios),
                        "shifts": np.asarray(shifts)}
    return tables


def check_tables(tables: Mapping, num_components: int,
                 latent_dim: int) -> dict:
    """`tables` as float64 arrays; `ValueError` on a bad shape."""
    out = {}
    for name, table in tables.items():
        ratios = np.asarray(table["log_ratios"], np.float64)
        shifts = np.asarray(table["shifts"], np.float64)
        values = len(ratios)
        if ratios.shape != (values, num_components) or shifts.shape != (
                values, num_components, latent_dim) or not (
                np.isfinite(ratios).all() and np.isfinite(shifts).all()):
            raise ValueError(
                f"Condition table {name!r} has log_ratios {ratios.shape} "
                f"and shifts {shifts.shape}; expected (V, {num_components})"
                f" and (V, {num_components}, {latent_dim}), finite.")
        out[name] = {"log_ratios": ratios, "shifts": shifts}
    return out


def conditioned_sample(mixture, eps: tf.Tensor, u: tf.Tensor, temperature,
                       conditions: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """Row i: component k with probability `pi_k(c_i)` (u against the
    row's cumulative weights), then `mu_k(c_i) + temperature * L_k eps`;
    `conditions` `{factor: (n, V)}` one-hot (or blended) rows."""
    import tensorflow as tf

    from vae_tf.samplers.draws import temperature_column

    n = tf.shape(eps)[0]
    logits = tf.tile(tf.constant(np.log(mixture.weights)[None], tf.float32),
                     [n, 1])
    shift = tf.zeros([n, mixture.num_components, mixture.latent_dim])
    for name, table in mixture.condition_tables.items():
        if name not in conditions:
            continue
        c = tf.cast(conditions[name], tf.float32)
        logits += c @ tf.constant(table["log_ratios"], tf.float32)
        shift += tf.einsum("nv,vck->nck", c,
                           tf.constant(table["shifts"], tf.float32))
    cumulative = tf.cumsum(tf.nn.softmax(logits, axis=1), axis=1)
    component = tf.reduce_sum(
        tf.cast(cumulative[:, :-1] <= u[:, None], tf.int32), axis=1)
    means = tf.gather(tf.constant(mixture.means, tf.float32), component)
    means += tf.gather(shift, component, batch_dims=1)
    chol = tf.gather(tf.constant(mixture.cholesky, tf.float32), component)
    return means + temperature_column(temperature) * tf.linalg.matvec(
        chol, eps)
