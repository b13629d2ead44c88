import json

import pytest

from vae_tf import ConfigError, VAEConfig


def test_json_round_trip(tmp_path):
    config = VAEConfig(
        input_shape=(32, 32, 1), latent_dim=8, widths=(8, 16),
        likelihood="bernoulli", beta=4.0, beta_schedule="cyclical", seed=3,
    )
    path = tmp_path / "config.json"
    config.save(path)
    assert VAEConfig.load(path) == config
    assert VAEConfig.from_json(config.to_json()) == config
    assert json.loads(path.read_text())["widths"] == [8, 16]


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("latent_dim", 0, "latent_dim=0"),
        ("beta", -1.0, "beta=-1.0"),
        ("likelihood", "poisson", "Unknown likelihood 'poisson'"),
        ("architecture", "resnet", "Unknown architecture 'resnet'"),
        ("batch_size", 0, "batch_size=0"),
        ("widths", (), "widths"),
        ("input_shape", (28, 28), "input_shape"),
        ("learning_rate", float("nan"), "learning_rate"),
    ],
)
def test_invalid_values_name_the_field(field, value, match):
    with pytest.raises(ConfigError, match=match):
        VAEConfig(**{field: value})


def test_conv_needs_divisible_image_size():
    with pytest.raises(ConfigError, match="multiples of 16"):
        VAEConfig(input_shape=(28, 28, 1), widths=(8, 8, 8, 8))


def test_unknown_and_corrupt_files(tmp_path):
    with pytest.raises(ConfigError, match="Unknown config field"):
        VAEConfig.from_dict({"latent_dims": 3})
    bad = tmp_path / "bad.json"
    bad.write_text('{"latent_dim": 4,')
    with pytest.raises(ConfigError, match="not valid JSON"):
        VAEConfig.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        VAEConfig.load(tmp_path / "missing.json")


def test_binarization_defaults_to_bernoulli():
    assert VAEConfig(likelihood="bernoulli").use_binarization
    assert not VAEConfig(likelihood="laplace").use_binarization
    assert not VAEConfig(likelihood="bernoulli",
                         binarize=False).use_binarization
