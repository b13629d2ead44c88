"""Shared fixtures: tiny seeded configs and data, and a layer checker that
mirrors what Keras' private `run_layer_test` checks."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# setup.cfg runs the suite in 2 xdist workers on (typically) 2 cores: one
# intra-op thread per worker (and its subprocesses), so the two
# TensorFlow pools do not spin against each other.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
# Data and probes drawn or trained by tests are cached in a fresh folder,
# not ~/.cache: one per test run, shared by its xdist workers (they start
# with the controller's environment; the cache's writes are atomic).
import tempfile  # noqa: E402

if "VAE_TF_TEST_CACHE" not in os.environ:
    os.environ["VAE_TF_TEST_CACHE"] = tempfile.mkdtemp(
        prefix="vae_tf_test_cache_")
os.environ["VAE_TF_CACHE"] = os.environ["VAE_TF_TEST_CACHE"]
# The usual umask, whatever the CI's: file-mode tests expect 0644 / 0755.
os.umask(0o022)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_tf import VAEConfig  # noqa: E402


@pytest.fixture
def tiny_config():
    """A 32x32 RGB conv VAE small enough to train in seconds."""
    return VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, batch_size=32, epochs=1, num_examples=256, seed=1,
    )


@pytest.fixture
def check_layer():
    """Returns `check(layer_cls, init_kwargs, inputs, ...)`.

    Builds the layer, calls it, and checks output shapes, weight and seed
    generator counts, the number of losses added, and that `get_config`
    round-trips through Keras serialization to an equal config.
    """

    def check(
        layer_cls, init_kwargs, inputs, expected_output_shapes,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=0, expected_num_losses=0,
    ):
        layer = layer_cls(**init_kwargs)
        outputs = layer(inputs)
        flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        assert [tuple(o.shape) for o in flat] == list(expected_output_shapes)
        assert len(layer.trainable_weights) == expected_num_trainable_weights
        assert (
            len(layer.non_trainable_weights)
            == expected_num_non_trainable_weights
        )
        seeds = [
            v for v in vars(layer).values()
            if isinstance(v, keras.random.SeedGenerator)
        ]
        assert len(seeds) == expected_num_seed_generators
        assert len(layer.losses) == expected_num_losses
        config = layer.get_config()
        for key, value in init_kwargs.items():
            assert config[key] == value
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        )
        assert type(revived) is layer_cls
        assert revived.get_config() == config
        return layer, outputs

    return check


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A tiny Bernoulli VAE trained for one epoch, as a run directory."""
    from vae_tf import train

    out = tmp_path_factory.mktemp("trained") / "run"
    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, likelihood="bernoulli", binarize=False,
        batch_size=32, epochs=1, num_examples=128, seed=1,
    )
    train(config, out_dir=str(out), verbose=0)
    return str(out)


@pytest.fixture(scope="session")
def exported(trained_run, tmp_path_factory):
    """`trained_run` exported once as `faces` (the name the shipped
    serving/models.config and the clients default to) into a fresh base
    folder."""
    from vae_tf.export import export_run

    base = tmp_path_factory.mktemp("saved_models")
    return export_run(trained_run, name="faces", base=str(base)), str(base)


@pytest.fixture(scope="session")
def conditional_run(tmp_path_factory):
    """`vae-tf train --condition glasses,hair_color,smile` on tiny faces,
    as a run directory (a `pathlib.Path`)."""
    import json

    from conditional import CONDITION, CONDITIONAL
    from vae_tf import cli

    folder = tmp_path_factory.mktemp("cond")
    config = folder / "tiny.json"
    config.write_text(json.dumps(CONDITIONAL))
    out = folder / "run"
    assert cli.main(["train", "--config", str(config), "--condition",
                     CONDITION, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def conditional_export(conditional_run, tmp_path_factory):
    """`conditional_run` exported as `cond` with its TFLite decoder:
    `(ExportResult, base folder)`."""
    from vae_tf.export import export_run

    base = tmp_path_factory.mktemp("cond_saved_models")
    return (export_run(str(conditional_run), name="cond", base=str(base),
                       tflite=True), str(base))
