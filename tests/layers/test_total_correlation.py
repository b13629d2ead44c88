"""The beta-TCVAE regularizer: its estimator against brute force, planted
codes, and the layer inside a fitted model."""

import math

import keras
import numpy as np
import pytest

from vae_tf.distributions.kl_decomposition import (kl_decomposition,
                                                   log_importance_weights)
from vae_tf.layers import TotalCorrelation


def _log_normal(x, mu, log_var):
    return -0.5 * (math.log(2 * math.pi) + log_var
                   + (x - mu) ** 2 * np.exp(-log_var))


def _brute_force(z, mu, lv, n):
    """The MSS estimate written out with loops, from the formula in
    `vae_tf.distributions.kl_decomposition`'s docstring."""
    b, k = z.shape
    m = max(b - 1, 1)

    def w(i, j):
        if i == j:
            return 1 / n
        return (n - m) / (n * m) if j == (i + 1) % b else 1 / m

    mi = tc = dim_kl = 0.0
    for i in range(b):
        log_qzx = sum(_log_normal(z[i, d], mu[i, d], lv[i, d])
                      for d in range(k))
        qz = sum(w(i, j) * math.exp(sum(
            _log_normal(z[i, d], mu[j, d], lv[j, d]) for d in range(k)))
            for j in range(b))
        log_prod = sum(math.log(sum(
            w(i, j) * math.exp(_log_normal(z[i, d], mu[j, d], lv[j, d]))
            for j in range(b))) for d in range(k))
        log_pz = sum(_log_normal(z[i, d], 0.0, 0.0) for d in range(k))
        mi += log_qzx - math.log(qz)
        tc += math.log(qz) - log_prod
        dim_kl += log_prod - log_pz
    return mi / b, tc / b, dim_kl / b


def _draws(rng, b, k, log_var=-1.0):
    mu = rng.normal(size=(b, k)).astype(np.float32)
    lv = np.full((b, k), log_var, np.float32) + rng.normal(
        0, 0.3, (b, k)).astype(np.float32)
    z = mu + np.exp(0.5 * lv) * rng.normal(size=(b, k)).astype(np.float32)
    return z, mu, lv


@pytest.mark.parametrize("b", [5, 2])
def test_the_estimator_matches_a_brute_force_computation(rng, b):
    z, mu, lv = _draws(rng, b, 3)
    got = [float(v) for v in kl_decomposition(z, mu, lv, 50)]
    np.testing.assert_allclose(got, _brute_force(z, mu, lv, 50),
                               rtol=1e-4, atol=1e-4)


def test_each_rows_weights_sum_to_one_and_are_unbiased(rng):
    """For a batch of image i plus B - 1 others drawn from the rest of the
    N, the weighted mixture averages to the exact q(z_i) over the whole
    data set."""
    n, b = 40, 8
    w = np.exp(log_importance_weights(b, n).numpy())
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    mu = rng.normal(size=n)
    lv = rng.normal(-1, 0.3, n)
    z0 = mu[0] + 0.5
    q = np.exp(_log_normal(z0, mu, lv))  # q(z0 | x_m) for every m
    exact = q.mean()
    draws = []
    for _ in range(4000):
        others = 1 + rng.choice(n - 1, b - 1, replace=False)
        batch = np.concatenate([[0], others])
        draws.append(w[0] @ q[batch])
    assert np.mean(draws) == pytest.approx(exact, rel=0.03)


def test_the_three_terms_add_up_to_the_one_sample_kl(rng):
    z, mu, lv = _draws(rng, 32, 4)
    mi, tc, dim_kl = (float(v) for v in kl_decomposition(z, mu, lv, 1000))
    log_qzx = sum(_log_normal(z[:, d], mu[:, d], lv[:, d]) for d in range(4))
    log_pz = sum(_log_normal(z[:, d], 0.0, 0.0) for d in range(4))
    assert mi + tc + dim_kl == pytest.approx(
        float(np.mean(log_qzx - log_pz)), abs=1e-3)


def test_a_factorised_code_has_no_total_correlation_a_copied_one_has(rng):
    """Planted codes, 256 images of 3 dimensions, posteriors of standard
    deviation e^-1: with independent dimensions TC is ~0 (0.12 measured);
    with all three dimensions copies of one, q(z) lives near a line and TC
    is large (1.67)."""
    b = 256
    mu = rng.normal(size=(b, 3)).astype(np.float32)
    lv = np.full((b, 3), -2.0, np.float32)
    noise = np.exp(-1.0) * rng.normal(size=(b, 3)).astype(np.float32)
    _, tc_free, _ = kl_decomposition(mu + noise, mu, lv, b)
    copied = np.repeat(mu[:, :1], 3, axis=1)
    _, tc_copied, _ = kl_decomposition(copied + noise, copied, lv, b)
    assert abs(float(tc_free)) < 0.3
    assert float(tc_copied) > 1.2


def test_layer_basics(check_layer):
    x = np.zeros((4, 3), np.float32)
    check_layer(TotalCorrelation, {"dataset_size": 100, "tc_weight": 4.0,
                                   "mi_weight": 0.5, "dim_kl_weight": 2.0},
                [x, x, x], [(4, 3)], expected_num_non_trainable_weights=1,
                expected_num_losses=1)


def test_the_loss_weighs_the_three_terms(rng):
    z, mu, lv = _draws(rng, 16, 3)
    mi, tc, dim_kl = (float(v) for v in kl_decomposition(z, mu, lv, 500))
    layer = TotalCorrelation(dataset_size=500, tc_weight=5.0,
                             mi_weight=2.0, dim_kl_weight=0.5)
    out = layer([mu, lv, z])
    np.testing.assert_array_equal(out, z)
    assert float(layer.losses[0]) == pytest.approx(
        2.0 * mi + 5.0 * tc + 0.5 * dim_kl, rel=1e-5)
    assert float(layer.tc_tracker.result()) == pytest.approx(tc, rel=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"tc_weight": -1.0}, "tc_weight"),
    ({"mi_weight": "1"}, "mi_weight"),
    ({"dataset_size": 0}, "dataset_size"),
    ({"dataset_size": 2.5}, "dataset_size"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TotalCorrelation(**kwargs)


def test_fit_reports_the_three_terms(rng):
    """A plain functional model: `fit` trains through the layer loss and
    the history has `mutual_information`, `total_correlation`,
    `dimension_kl`; more TC weight ends with less total correlation."""
    from vae_tf.layers import Sampling

    x = rng.normal(size=(512, 6)).astype(np.float32)
    x[:, 3:] = x[:, :3] + 0.05 * x[:, 3:]  # correlated inputs

    def fit(tc_weight):
        keras.utils.set_random_seed(0)
        inp = keras.Input((6,))
        mu = keras.layers.Dense(3)(inp)
        lv = keras.layers.Dense(3)(inp)
        z = Sampling(seed=0)([mu, lv])
        z = TotalCorrelation(512, tc_weight=tc_weight)([mu, lv, z])
        model = keras.Model(inp, keras.layers.Dense(6)(z))
        model.compile("adam", "mse")
        return model.fit(x, x, batch_size=64, epochs=30,
                         verbose=0).history

    low, high = fit(1.0), fit(20.0)
    for key in ("mutual_information", "total_correlation", "dimension_kl"):
        assert key in low and len(low[key]) == 30
    assert high["total_correlation"][-1] < low["total_correlation"][-1]
