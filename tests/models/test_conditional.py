"""The conditional VAE as a functional model: named condition inputs on
encoder and decoder, plain `fit`, a safe-mode save/load round trip."""

import numpy as np
import pytest

from vae_tf import VAEConfig, build_vae, compile_vae, load_model
from vae_tf.config import ConfigError
from vae_tf.data.conditions import encode_conditions
from vae_tf.data.faces import make_faces

FACTORS = ["glasses", "hair_color", "smile"]


@pytest.fixture(scope="module")
def faces():
    x, attributes = make_faces(192, seed=4, image_size=32)
    return x.astype(np.float32) / 255.0, attributes


def _config(attributes, **changes):
    return VAEConfig(input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
                     dense_units=16, condition=FACTORS,
                     **changes).with_conditions(attributes)


@pytest.fixture(scope="module")
def trained(faces, tmp_path_factory):
    x, attributes = faces
    # A constant rate: the default one-cycle schedule, sized for 10,000
    # images x 12 epochs, is still warming up after these 18 steps, so the
    # loss barely moved and "it trains" depended on the test order (seen:
    # a full run where the last epoch ended 2.7 nats above the first).
    config = _config(attributes, lr_schedule="constant", learning_rate=3e-3)
    models = build_vae(config)
    compile_vae(models.vae, config)
    conditions = encode_conditions(config.specs(), attributes)
    history = models.vae.fit({"image": x, **conditions}, x, batch_size=32,
                             epochs=3, verbose=0, shuffle=False).history
    path = tmp_path_factory.mktemp("cvae") / "model.keras"
    models.vae.save(path)
    return config, models, conditions, history, path


def test_encoder_and_decoder_take_one_named_input_per_factor(trained):
    config, models, _, _, _ = trained
    assert sorted(i.name for i in models.encoder.inputs) == sorted(
        ["image", *FACTORS])
    assert sorted(i.name for i in models.decoder.inputs) == sorted(
        ["z", *FACTORS])
    widths = {i.name: i.shape[-1] for i in models.decoder.inputs}
    assert widths == {"z": 4, "glasses": 2, "hair_color": 4, "smile": 1}


def test_fit_trains_through_the_conditions(trained):
    history = trained[3]
    assert history["loss"][-1] < history["loss"][0]


def test_the_decoder_follows_the_condition_row_by_row(trained):
    """Same z, glasses off vs on: another image. A row's image depends on
    its own condition only: changing the other rows' leaves it as is."""
    config, models, _, _, _ = trained
    z = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    hair = np.eye(4, dtype=np.float32)[[0, 1, 3]]
    smile = np.zeros((3, 1), np.float32)
    off = np.tile([[1.0, 0.0]], (3, 1)).astype(np.float32)
    on = off.copy()
    on[1:] = [0.0, 1.0]  # rows 1 and 2 get glasses, row 0 does not

    def decode(glasses):
        return np.asarray(models.decoder(
            {"z": z, "glasses": glasses, "hair_color": hair,
             "smile": smile}, training=False))

    a, b = decode(off), decode(on)
    np.testing.assert_array_equal(a[0], b[0])
    assert np.abs(a[1:] - b[1:]).mean() > 1e-4


def test_a_saved_conditional_vae_loads_in_safe_mode(trained, faces):
    config, models, conditions, _, path = trained
    x, _ = faces
    loaded = load_model(str(path))
    inputs = {"image": x[:8], **{k: v[:8] for k, v in conditions.items()}}
    z_mean = models.encoder.predict(inputs, verbose=0)[0]
    again = loaded.get_layer("encoder").predict(inputs, verbose=0)[0]
    np.testing.assert_allclose(z_mean, again, rtol=1e-5, atol=1e-6)


def test_unresolved_or_bad_conditions_are_named(faces):
    _, attributes = faces
    with pytest.raises(ConfigError, match="not resolved: call "
                       "config.with_conditions"):
        build_vae(VAEConfig(input_shape=(32, 32, 3), condition=["glasses"]))
    with pytest.raises(ConfigError, match="distinct factor names"):
        VAEConfig(condition=["glasses", "glasses"])
    with pytest.raises(ConfigError, match="condition_specs is set"):
        VAEConfig(condition_specs=[{"name": "glasses", "kind": "class"}])
    with pytest.raises(ConfigError, match="must agree"):
        VAEConfig(condition=["beard"], condition_specs=[
            {"name": "glasses", "kind": "class", "values": [0, 1]}])
    from vae_tf.data.conditions import ConditionError
    with pytest.raises(ConditionError, match="no factor 'hat'. Available"):
        VAEConfig(condition=["hat"]).with_conditions(attributes)
