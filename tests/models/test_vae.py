import keras
import numpy as np
import pytest

import vae_tf
from vae_tf import build_vae, compile_vae, split_vae


@pytest.mark.parametrize("architecture", ["conv", "mlp", "resconv"])
@pytest.mark.parametrize("likelihood, scale, channels", [
    ("bernoulli", None, 3), ("laplace", 0.1, 3),
    ("laplace", None, 4), ("gaussian", None, 4),  # calibrated: + log-scale
])
def test_shapes_and_ranges(tiny_config, architecture, likelihood, scale,
                           channels):
    config = tiny_config.replace(architecture=architecture,
                                 likelihood=likelihood,
                                 likelihood_scale=scale)
    vae, encoder, decoder = build_vae(config)
    x = np.random.default_rng(0).uniform(size=(5, 32, 32, 3)).astype("float32")
    z_mean, z_log_var, z = encoder(x)
    assert z_mean.shape == z_log_var.shape == z.shape == (5, 4)
    images = decoder(z_mean).numpy()
    assert images.shape == (5, 32, 32, 3)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert vae(x).shape == (5, 32, 32, channels)


def test_no_lambda_layers_and_only_registered_custom_layers(tiny_config):
    vae = build_vae(tiny_config).vae
    stack, seen = [vae], []
    while stack:
        layer = stack.pop()
        seen.append(layer)
        stack.extend(getattr(layer, "layers", []))
    assert not any(isinstance(item, keras.layers.Lambda) for item in seen)
    custom = {type(item).__module__.split(".")[0] for item in seen} - {"keras"}
    assert custom == {"vae_tf"}


def test_build_requires_input_shape(tiny_config):
    with pytest.raises(ValueError, match="input_shape"):
        build_vae(tiny_config.replace(input_shape=None))


def test_fit_history_reports_loss_reconstruction_and_kl(tiny_config):
    vae, _, _ = compile_vae(build_vae(tiny_config).vae, tiny_config), None, None
    x = np.random.default_rng(0).uniform(size=(64, 32, 32, 3)).astype("float32")
    history = vae.fit(x, x, validation_data=(x[:16], x[:16]), epochs=1,
                      batch_size=32, verbose=0).history
    for key in ("loss", "reconstruction", "kl"):
        assert key in history and f"val_{key}" in history
    # beta = 1: loss = reconstruction + KL (the negative ELBO), per image.
    np.testing.assert_allclose(
        history["val_loss"][0],
        history["val_reconstruction"][0] + history["val_kl"][0], rtol=1e-4,
    )


def test_beta_scales_the_kl_part_of_the_loss(tiny_config):
    x = np.random.default_rng(0).uniform(size=(32, 32, 32, 3)).astype("float32")
    vae = compile_vae(build_vae(tiny_config).vae, tiny_config)
    # A large KL (far-off posterior) so that it stands out of float32 noise.
    vae.get_layer("encoder").get_layer("z_mean").bias.assign(np.full(4, 3.0))
    base = vae.evaluate(x, x, verbose=0, return_dict=True)
    from vae_tf.schedules import kl_layers
    kl_layers(vae)[0].beta.assign(5.0)
    heavy = vae.evaluate(x, x, verbose=0, return_dict=True)
    # loss = reconstruction + beta * KL within each evaluation (the
    # posterior sample differs between the two, so compare per run).
    np.testing.assert_allclose(
        base["loss"] - base["reconstruction"], base["kl"], rtol=0.05
    )
    np.testing.assert_allclose(
        heavy["loss"] - heavy["reconstruction"], 5.0 * heavy["kl"], rtol=0.05
    )


def test_save_load_round_trip_in_safe_mode(tiny_config, tmp_path):
    models = build_vae(tiny_config)
    compile_vae(models.vae, tiny_config)
    path = tmp_path / "model.keras"
    models.vae.save(path)
    revived = keras.saving.load_model(path)  # safe_mode=True by default
    again = split_vae(revived, tiny_config)
    x = np.random.default_rng(1).uniform(size=(3, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(
        again.encoder.predict(x, verbose=0)[0],
        models.encoder.predict(x, verbose=0)[0],
    )
    z = np.zeros((2, 4), np.float32)
    np.testing.assert_allclose(again.decoder(z), models.decoder(z), atol=1e-6)
    assert isinstance(revived.get_layer("encoder").get_layer("z"),
                      vae_tf.Sampling)


def test_cosine_learning_rate_decays_to_zero_over_the_whole_run(tiny_config):
    """Bug: the decay spread over the wrong number of steps (the estimate
    from `num_examples` when `fit`'s step count is not given)."""
    from vae_tf.schedules import learning_rate_schedule

    config = tiny_config.replace(lr_schedule="cosine", learning_rate=1e-3,
                                 epochs=3, num_examples=100, batch_size=32)
    for n, steps_per_epoch, total in (
            (100, None, 12),  # 3 epochs of ceil(100 / 32) = 4 steps
            (96, None, 9),  # an exact multiple: 3 epochs of 3 steps
            (100, 10, 30)):
        lr = learning_rate_schedule(config.replace(num_examples=n),
                                    steps_per_epoch)
        assert float(lr(0)) == pytest.approx(1e-3)
        assert float(lr(total // 2)) == pytest.approx(
            5e-4 * (1 + np.cos(np.pi * (total // 2) / total)), rel=1e-5)
        assert float(lr(total)) == pytest.approx(0.0, abs=1e-9)


def test_constant_learning_rate_from_a_json_config(tiny_config, tmp_path):
    """Bug: the schedule name compared by identity: config.json's fresh
    string would then get the cosine decay."""
    from vae_tf.schedules import learning_rate_schedule

    path = tmp_path / "config.json"
    tiny_config.replace(lr_schedule="constant", learning_rate=3e-4).save(
        str(path))
    assert learning_rate_schedule(vae_tf.VAEConfig.load(str(path))) == 3e-4


def test_bernoulli_config_read_from_json_gets_a_logit_decoder(tiny_config,
                                                              tmp_path):
    """Bug: comparing the likelihood name by identity: a config read from
    config.json holds a fresh string, and its Bernoulli decoder would get a
    sigmoid (the loss then squashes probabilities twice)."""
    path = tmp_path / "config.json"
    tiny_config.replace(likelihood="bernoulli").save(str(path))
    config = vae_tf.VAEConfig.load(str(path))
    models = build_vae(config)
    last = models.vae.get_layer("decoder").layers[-1]
    assert last.activation is keras.activations.linear
    z = np.full((1, 4), 3.0, np.float32)
    logits = models.vae.get_layer("decoder")(z).numpy()
    np.testing.assert_allclose(models.decoder(z).numpy(),
                               1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)


def test_z_log_var_is_bounded_by_ten(tiny_config):
    """Bug: a wider bound on the log-variance; exp(0.5 * z_log_var) of an
    exploding encoder must stay below exp(5) ~ 148 (see SoftClip)."""
    encoder = build_vae(tiny_config).encoder
    raw = encoder.get_layer("z_log_var_raw")
    raw.bias.assign(np.full(4, 1e4, np.float32))
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    log_var = encoder(x)[1].numpy()
    assert np.all(log_var <= 10.0) and np.all(log_var > 9.99)


def test_likelihood_scale_is_the_stored_calibrated_or_the_configured_one(
        tiny_config):
    """Bug: evaluation using a wrong pixel scale (the reported nats are
    then not the model's -ELBO): the calibrated layer's running scale, or
    the fixed `likelihood_scale` of the config."""
    from vae_tf.models.vae import likelihood_scale

    calibrated = tiny_config.replace(likelihood="gaussian",
                                     likelihood_scale=None)
    vae = build_vae(calibrated).vae
    vae.get_layer("calibrated_scale").scale.assign(0.37)
    assert likelihood_scale(vae, calibrated) == pytest.approx(0.37)
    fixed = tiny_config.replace(likelihood="laplace", likelihood_scale=0.05)
    assert likelihood_scale(build_vae(fixed).vae, fixed) == 0.05


@pytest.mark.parametrize("likelihood", ["gaussian", "laplace"])
def test_mean_decoders_are_returned_as_is(tiny_config, likelihood):
    """Bug: a Gaussian or Laplace decoder wrapped in a second sigmoid (the
    Bernoulli treatment), which squashes its means towards 0.5."""
    models = build_vae(tiny_config.replace(likelihood=likelihood))
    assert models.decoder is models.vae.get_layer("decoder")


def test_fixed_scale_reaches_the_compiled_loss(tiny_config):
    """Bug: a fixed `likelihood_scale` replaced by 1.0 in the loss."""
    from vae_tf import negative_log_likelihood

    config = tiny_config.replace(likelihood="gaussian", likelihood_scale=0.05)
    vae = compile_vae(build_vae(config).vae, config)
    x = np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype("float32")
    params = vae(x)
    expected = np.mean(negative_log_likelihood(x, params, "gaussian", 0.05))
    np.testing.assert_allclose(float(vae.loss(x, params)), expected,
                               rtol=1e-5)


def test_split_vae_refuses_a_model_that_is_not_a_vae():
    inputs = keras.Input((3,))
    other = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="is not a vae_tf VAE"):
        split_vae(other, vae_tf.VAEConfig(input_shape=(3, 1, 1)))


@pytest.mark.parametrize("schedule, expected", [
    ("constant", 4.0), ("capacity", 4.0), ("linear", 0.0), ("cyclical", 0.0)])
def test_built_kl_weight_is_the_schedules_first_value(tiny_config, schedule,
                                                      expected):
    """Bug: a warm-up schedule's model starting at the full beta (what an
    evaluation before the first step, or a schedule callback left out of
    a custom `fit`, would then use)."""
    from vae_tf.schedules import kl_layers

    config = tiny_config.replace(beta=4.0, beta_schedule=schedule)
    (layer,) = kl_layers(build_vae(config).vae)
    assert float(layer.beta.numpy()) == expected
    assert float(layer.capacity.numpy()) == 0.0


def test_seed_fixes_the_weights_and_leaves_the_callers_rngs_alone(
        tiny_config):
    """Bug: build_vae called keras.utils.set_random_seed, reseeding the
    user's Python, NumPy, TensorFlow and Keras generators."""
    import random

    import tensorflow as tf

    def draws():
        return (random.random(), np.random.random(),
                float(tf.random.uniform(())),
                float(keras.random.uniform(())))

    def weights(seed):
        return build_vae(tiny_config.replace(seed=seed)).vae.get_weights()

    random.seed(5)
    np.random.seed(5)
    tf.random.set_seed(5)
    keras.utils.set_random_seed(5)
    expected = [draws(), draws()]
    keras.utils.set_random_seed(5)
    got = [draws()]
    first = weights(1)
    got.append(draws())
    assert got == expected  # the build consumed and reseeded nothing
    again, other = weights(1), weights(2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
