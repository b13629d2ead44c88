"""vae_tf loads model files in safe mode only: archives carrying Python code
are refused with a clear message, vae_tf's own archives load."""

import keras
import numpy as np
import pytest

from vae_tf.training import ModelLoadError, load_model


def test_archive_with_a_lambda_layer_is_refused(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelLoadError, match="contains Python code.*safe mode"):
        load_model(str(path))


def test_vae_tf_archives_load_in_safe_mode(trained_run):
    model = load_model(f"{trained_run}/model.keras")
    x = np.zeros((1, 32, 32, 3), np.float32)
    assert model(x).shape == (1, 32, 32, 3)


def test_no_code_path_turns_safe_mode_off():
    import pathlib
    import vae_tf
    source = "\n".join(p.read_text() for p in pathlib.Path(vae_tf.__file__).parent.rglob("*.py"))
    assert "safe_mode=False" not in source
    assert "enable_unsafe_deserialization" not in source
