"""Conditions of a conditional VAE: specs from labelled factors, their
encodings, `--set` parsing, and the errors that name what is available."""

import json

import numpy as np
import pytest

from vae_tf.data.conditions import (ConditionError, ConditionSpec,
                                    condition_specs, encode_conditions,
                                    parse_settings)
from vae_tf.data.faces import sample_attributes
from vae_tf.data.shapes import sample_factors


@pytest.fixture(scope="module")
def faces():
    return sample_attributes(2000, seed=0)


def test_faces_specs_one_hot_classes_and_standardise_values(faces):
    specs = condition_specs(["glasses", "hair_color", "smile"], faces,
                            "faces")
    glasses, hair, smile = specs
    assert (glasses.kind, glasses.values, glasses.width) == ("class",
                                                             (0, 1), 2)
    assert hair.values == (0, 1, 2, 3)
    assert hair.value_names == ("black", "brown", "blond", "red")
    assert smile.kind == "continuous" and smile.width == 1
    assert smile.mean == pytest.approx(
        float(np.mean(faces["smile"].astype(np.float64))))
    encoded = encode_conditions(specs, faces)
    assert encoded["hair_color"].shape == (2000, 4)
    np.testing.assert_array_equal(encoded["hair_color"].argmax(1),
                                  faces["hair_color"])
    np.testing.assert_array_equal(encoded["hair_color"].sum(1), 1.0)
    z = encoded["smile"][:, 0]
    assert abs(z.mean()) < 1e-5 and z.std() == pytest.approx(1.0, 1e-4)
    assert all(v.dtype == np.float32 for v in encoded.values())


def test_shapes_factors_and_the_label_of_a_labelled_set():
    specs = condition_specs(["shape", "x"], sample_factors(500, 1),
                            "shapes")
    assert specs[0].kind == "class" and specs[0].values == (0, 1, 2)
    assert specs[1].kind == "continuous"
    label = {"label": np.arange(100) % 10}
    (spec,) = condition_specs(["label"], label, "fashion_mnist")
    assert spec.values == tuple(range(10)) and spec.value_names == ()


def test_specs_survive_json(faces):
    specs = condition_specs(["beard", "hair_color", "skin_tone"], faces,
                            "faces")
    back = [ConditionSpec.from_dict(json.loads(json.dumps(s.to_dict())))
            for s in specs]
    assert back == specs


def test_settings_by_name_or_number(faces):
    specs = condition_specs(["glasses", "beard", "hair_color", "smile"],
                            faces, "faces")
    got = parse_settings("glasses=1, beard=0,hair_color=red,smile=0.5",
                         specs)
    assert got == {"glasses": 1, "beard": 0, "hair_color": 3,
                   "smile": 0.5}
    assert parse_settings("hair_color=2", specs, defaults={
        "glasses": 0, "beard": 1, "smile": -1.0})["hair_color"] == 2


@pytest.mark.parametrize("text, match", [
    ("glasses=1,beard=0,hair_color=green,smile=0",
     r"hair_color has no value 'green'. Valid: black \(0\), brown \(1\)"),
    ("glasses=2,beard=0,hair_color=red,smile=0",
     "glasses has no value '2'. Valid: 0, 1"),
    ("glasses=1,beard=0,hair_color=red,smile=wide",
     "smile takes a number"),
    ("hat=1", "not conditioned on 'hat'. Its factors: glasses, beard"),
    ("glasses", "Expected FACTOR=VALUE"),
    ("glasses=1", "No value for beard, hair_color, smile: .* e.g. "
                  "glasses=0,beard=0,hair_color=black,smile="),
])
def test_bad_settings_name_the_valid_ones(faces, text, match):
    specs = condition_specs(["glasses", "beard", "hair_color", "smile"],
                            faces, "faces")
    with pytest.raises(ConditionError, match=match):
        parse_settings(text, specs)


def test_unknown_factors_and_unlabelled_data_are_refused(faces):
    with pytest.raises(ConditionError, match="has no factor 'hat'. "
                       "Available: background, beard, glasses, hair_color"):
        condition_specs(["glasses", "hat"], faces, "faces")
    with pytest.raises(ConditionError, match="'folder:photos' has no "
                       "labelled factors"):
        condition_specs(["glasses"], {}, "folder:photos")
    with pytest.raises(ConditionError, match="takes one value only"):
        condition_specs(["glasses"], {"glasses": np.ones(10, int)}, "npz")
    with pytest.raises(ConditionError, match="named twice"):
        condition_specs(["beard", "beard"], faces, "faces")


def test_encoding_refuses_values_outside_the_spec(faces):
    (spec,) = condition_specs(["glasses"], faces, "faces")
    with pytest.raises(ConditionError, match="value 5"):
        spec.encode(np.array([0, 5, 1]))
    (smile,) = condition_specs(["smile"], faces, "faces")
    with pytest.raises(ConditionError, match="NaN"):
        smile.encode(np.array([0.1, np.nan]))
