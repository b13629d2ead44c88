import numpy as np
import pytest
import tensorflow as tf

from vae_tf import KLDivergence


def test_kl_layer_basics(check_layer):
    x = np.zeros((4, 3), np.float32)
    check_layer(
        KLDivergence, {"beta": 2.0, "capacity": 1.0}, [x, x],
        [(4, 3), (4, 3)], expected_num_non_trainable_weights=2,
        expected_num_losses=1,
    )


def _closed_form(mu, log_var):
    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)


def test_kl_layer_is_identity_and_adds_beta_times_batch_mean_kl(rng):
    mu = rng.normal(size=(8, 5)).astype(np.float32)
    log_var = rng.normal(size=(8, 5)).astype(np.float32)
    layer = KLDivergence(beta=3.0)
    out_mu, out_lv = layer([mu, log_var])
    np.testing.assert_array_equal(out_mu, mu)
    np.testing.assert_array_equal(out_lv, log_var)
    expected = 3.0 * _closed_form(mu, log_var).mean()
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    # The metric reports the unweighted KL.
    np.testing.assert_allclose(
        float(layer.kl_tracker.result()), expected / 3.0, rtol=1e-5
    )


def test_beta_variable_changes_the_loss(rng):
    mu = rng.normal(size=(8, 5)).astype(np.float32)
    layer = KLDivergence(beta=1.0)
    layer([mu, mu])
    base = float(layer.losses[0])
    layer.beta.assign(4.0)
    layer([mu, mu])
    np.testing.assert_allclose(float(layer.losses[0]), 4.0 * base, rtol=1e-6)
    assert not layer.beta.trainable


def test_capacity_makes_loss_beta_times_abs_gap(rng):
    mu = rng.normal(size=(8, 5)).astype(np.float32)
    kl = _closed_form(mu, mu).mean()
    layer = KLDivergence(beta=2.0, capacity=float(kl + 3.0))
    layer([mu, mu])
    np.testing.assert_allclose(float(layer.losses[0]), 2.0 * 3.0, rtol=1e-4)


def test_kl_layer_gradient_matches_closed_form():
    mu = tf.Variable([[0.5, -1.0]])
    log_var = tf.Variable([[0.2, -0.3]])
    layer = KLDivergence()
    with tf.GradientTape() as tape:
        layer([mu, log_var])
        loss = layer.losses[0]
    g_mu, g_lv = tape.gradient(loss, [mu, log_var])
    np.testing.assert_allclose(g_mu.numpy(), mu.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        g_lv.numpy(), 0.5 * (np.exp(log_var.numpy()) - 1), rtol=1e-5
    )


@pytest.mark.parametrize("bad", [{"beta": -1.0}, {"capacity": -0.5},
                                 {"beta": float("nan")}])
def test_kl_layer_rejects_negative_weights(bad):
    with pytest.raises(ValueError, match="Received"):
        KLDivergence(**bad)


def test_free_bits_floor_each_dimension_of_the_loss_not_the_metric():
    """With free bits lambda the loss is beta * sum_d max(KL_d, lambda)
    over the batch-mean KL per dimension; the tracked kl stays the KL."""
    from vae_tf.distributions.gaussian import kl_per_dimension

    z_mean = np.array([[1.0, 0.0, 0.05], [0.5, 0.0, -0.05]], np.float32)
    z_log_var = np.zeros((2, 3), np.float32)
    per_dim = np.mean(np.asarray(kl_per_dimension(z_mean, z_log_var)), 0)
    layer = KLDivergence(beta=2.0, free_bits=0.1)
    layer([z_mean, z_log_var])
    want = 2.0 * np.maximum(per_dim, 0.1).sum()
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)
    assert float(layer.kl_tracker.result()) == pytest.approx(per_dim.sum(),
                                                             rel=1e-5)
    plain = KLDivergence(beta=2.0)
    plain([z_mean, z_log_var])
    np.testing.assert_allclose(float(plain.losses[0]), 2 * per_dim.sum(),
                               rtol=1e-5)
    assert KLDivergence.from_config(layer.get_config()).free_bits == 0.1
    with pytest.raises(ValueError, match="free_bits"):
        KLDivergence(free_bits=-1.0)
