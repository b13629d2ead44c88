"""vae_tf loads model files in safe mode only: archives carrying Python code
are refused with a clear message, vae_tf's own archives load."""

import ast
import pathlib

import keras
import numpy as np
import pytest

import vae_tf
from vae_tf.runs import ModelLoadError, load_model


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


def unsafe_loading(source: str) -> list[str]:
    """Every place in `source` that could turn Keras safe mode off: a
    `safe_mode` keyword (or dict key) that is not the literal True, any
    mention of `enable_unsafe_deserialization`, and `Lambda` layers (which
    only load with safe mode off)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "safe_mode":
            if not (isinstance(node.value, ast.Constant)
                    and node.value.value is True):
                found.append(f"line {node.value.lineno}: safe_mode="
                             f"{ast.unparse(node.value)}")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and key.value == "safe_mode"
                        and not (isinstance(value, ast.Constant)
                                 and value.value is True)):
                    found.append(f"line {key.lineno}: 'safe_mode': "
                                 f"{ast.unparse(value)}")
        elif isinstance(node, (ast.Name, ast.Attribute, ast.alias)):
            name = {ast.Name: "id", ast.Attribute: "attr", ast.alias: "name"}
            name = getattr(node, name[type(node)]).split(".")[-1]
            if name in ("enable_unsafe_deserialization", "Lambda"):
                found.append(f"line {node.lineno}: {name}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and "enable_unsafe_deserialization" in node.value):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("planted", [
    "keras.saving.load_model(path, safe_mode=False)",
    "unsafe = False\nkeras.models.load_model(path, safe_mode=unsafe)",
    "kwargs = {'safe_mode': False}\nload_model(path, **kwargs)",
    "kwargs = dict(safe_mode=0)",
    "keras.config.enable_unsafe_deserialization()",
    "from keras.config import enable_unsafe_deserialization",
    "getattr(keras.config, 'enable_unsafe_deserialization')()",
    "h = keras.layers.Lambda(lambda t: t * 2)(h)",
])
def test_the_safe_mode_check_finds_planted_unsafe_code(planted):
    assert unsafe_loading("import keras\n" + planted)
    assert not unsafe_loading("keras.saving.load_model(p, safe_mode=True)")


def test_no_code_path_turns_safe_mode_off():
    """Parsed, not grepped: `safe_mode = False`, a variable, a kwargs dict
    or an imported `enable_unsafe_deserialization` all count."""
    root = pathlib.Path(vae_tf.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 30
    found = {str(p.relative_to(root)): unsafe_loading(p.read_text())
             for p in files}
    assert {p: f for p, f in found.items() if f} == {}
