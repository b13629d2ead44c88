"""`vae_tf.reconstruct_images`: pictures from a `VAEModels` in the input's
range, deterministic, unlike `vae.predict`'s likelihood parameters
(issue 30, point 4)."""

import numpy as np

import vae_tf


def test_reconstructions_come_back_in_the_inputs_range():
    config = vae_tf.VAEConfig(input_shape=(32, 32, 3), latent_dim=4,
                              widths=(8, 16), dense_units=16)
    models = vae_tf.build_vae(config)
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), np.uint8)
    as_uint8 = vae_tf.reconstruct_images(models, x)
    as_float = vae_tf.reconstruct_images(models, x / 255.0)
    assert as_uint8.dtype == np.uint8 and as_float.dtype == np.float32
    np.testing.assert_array_equal(as_uint8, np.round(as_float * 255))
    # The decoder at z_mean: the same every call.
    z = models.encoder.predict(x / 255.0, verbose=0)[0]
    np.testing.assert_allclose(
        as_float, models.decoder.predict(z, verbose=0), atol=1e-6)
    np.testing.assert_array_equal(as_float,
                                  vae_tf.reconstruct_images(models, x / 255))
    # vae.predict is the loss's input: means plus a log-scale channel for
    # the default calibrated Gaussian, at a sampled z.
    params = models.vae.predict(x / 255.0, verbose=0)
    assert params.shape == (3, 32, 32, 4)
    assert not np.allclose(params, models.vae.predict(x / 255.0, verbose=0))


def test_bernoulli_reconstructions_are_probabilities_not_logits():
    config = vae_tf.VAEConfig(input_shape=(32, 32, 1), latent_dim=4,
                              widths=(8, 16), dense_units=16,
                              likelihood="bernoulli")
    models = vae_tf.build_vae(config)
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    out = vae_tf.reconstruct_images(models, x)
    logits = models.vae.predict(x, verbose=0)
    assert out.shape == logits.shape == x.shape
    assert 0 <= out.min() and out.max() <= 1
    z = models.encoder.predict(x, verbose=0)[0]
    np.testing.assert_allclose(out, models.decoder.predict(z, verbose=0),
                               atol=1e-6)
