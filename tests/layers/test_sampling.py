import numpy as np
import pytest
import tensorflow as tf

from vae_tf import Sampling


def test_sampling_basics(check_layer):
    z_mean = np.zeros((5, 3), np.float32)
    check_layer(
        Sampling, {"seed": 3}, [z_mean, z_mean], [(5, 3)],
        expected_num_seed_generators=1,
    )


def test_sampling_correctness_moments():
    """z ~ N(mu, exp(log_var)): sample mean and std within tolerance."""
    n = 200_000
    mu = np.full((n, 2), [1.5, -2.0], np.float32)
    log_var = np.full((n, 2), np.log([0.25, 4.0]), np.float32)
    z = Sampling(seed=7)([mu, log_var]).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.5, -2.0], atol=0.02)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.01)


def test_sampling_seeded_and_advancing():
    mu = np.zeros((4, 3), np.float32)
    a, b = Sampling(seed=5), Sampling(seed=5)
    first = a([mu, mu]).numpy()
    np.testing.assert_array_equal(first, b([mu, mu]).numpy())
    assert not np.allclose(first, a([mu, mu]).numpy())  # generator advances


def test_sampling_gradients_reach_mean_and_log_var():
    mu = tf.Variable(np.full((6, 2), 0.3, np.float32))
    log_var = tf.Variable(np.full((6, 2), -0.5, np.float32))
    layer = Sampling(seed=2)
    with tf.GradientTape() as tape:
        z = layer([mu, log_var])
        loss = tf.reduce_sum(z ** 2)
    g_mu, g_lv = tape.gradient(loss, [mu, log_var])
    assert g_mu is not None and g_lv is not None
    # d/dmu sum(z^2) = 2 z; d/dlog_var = 2 z * 0.5 * sigma * eps.
    eps = (z.numpy() - 0.3) / np.exp(-0.25)
    np.testing.assert_allclose(g_mu.numpy(), 2 * z.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        g_lv.numpy(), z.numpy() * np.exp(-0.25) * eps, rtol=1e-4, atol=1e-6
    )


def test_sampling_rejects_bad_seed():
    for bad in ("x", True, 1.5):
        with pytest.raises(ValueError,
                           match="Expected `seed` to be an integer or None"):
            Sampling(seed=bad)
    assert Sampling(seed=None).seed is None


def test_sampling_state_is_saved_with_the_weights(tmp_path):
    """Bug: the seed generator's state left out of saved weights (Keras
    saves a layer's own variables only), so a restored model repeats draws
    it already made instead of continuing the sequence."""
    import keras

    inputs = [keras.Input((3,)), keras.Input((3,))]
    layer = Sampling(seed=5)
    model = keras.Model(inputs, layer(inputs))
    zeros = [np.zeros((4, 3), np.float32)] * 2
    layer(zeros)  # advance the state past its initial value
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    expected = layer(zeros).numpy()  # the draw after the saved state
    layer(zeros)
    model.load_weights(path)
    np.testing.assert_array_equal(layer(zeros).numpy(), expected)
    # A fresh model loading the file continues from the saved state too,
    # and files without the entry (older vae_tf) still load.
    fresh_inputs = [keras.Input((3,)), keras.Input((3,))]
    fresh_layer = Sampling(seed=5)
    fresh = keras.Model(fresh_inputs, fresh_layer(fresh_inputs))
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh_layer(zeros).numpy(), expected)
    fresh_layer.load_own_variables({})
