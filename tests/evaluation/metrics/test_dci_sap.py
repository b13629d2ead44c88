"""DCI and SAP on synthetic codes whose answers are known: a perfect
code, the same permuted, one rotated so every code mixes two factors, and
noise."""

import re

import numpy as np
import pytest

from vae_tf.evaluation.metrics import (dci,
                                       separated_attribute_predictability)
from vae_tf.evaluation.metrics.dci import completeness, disentanglement

# A 3-class factor (like shape), two continuous ones, a binary one.
CLASSES = (3, None, None, 2)


def _factors(n, seed):
    r = np.random.default_rng(seed)
    return np.stack([r.integers(0, 3, n), r.uniform(0, 1, n),
                     r.uniform(-1, 1, n), r.uniform(size=n) < 0.4],
                    axis=1).astype(float)


def _standardised(f):
    return (f - f.mean(0)) / f.std(0)


def _rotated(f):
    """Codes (f0 + f1, f1 - f0, f2 + f3, f3 - f2) / sqrt 2 of the
    standardised factors: every code mixes two factors equally."""
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    return _standardised(f) @ np.kron(np.eye(2), [[c, -s], [s, c]])


CODES = {
    "perfect": _standardised,
    "permuted": lambda f: _standardised(f)[:, [2, 0, 3, 1]],
    "rotated": _rotated,
    "noise": lambda f: np.random.default_rng(len(f)).normal(
        size=(len(f), 4)),
}


@pytest.fixture(scope="module")
def scores():
    train, test = _factors(2000, 0), _factors(1000, 1)
    out = {}
    for name, code in CODES.items():
        args = (code(train), train, code(test), test)
        out[name] = (dci(*args), separated_attribute_predictability(*args))
    return out


@pytest.mark.parametrize("name", ["perfect", "permuted"])
def test_a_one_to_one_code_is_fully_disentangled_and_complete(scores, name):
    d, s = scores[name]
    assert d["disentanglement"] > 0.98
    assert d["completeness"] > 0.98
    assert d["informativeness"] > 0.98
    # SAP: 1 - (the second-best dimension's chance score): R^2 0 for a
    # continuous factor, balanced accuracy 1/k for a k-class factor.
    expected = [1 - 1 / k if k else 1.0 for k in CLASSES]
    np.testing.assert_allclose(s["sap_per_factor"], expected, atol=0.04)


def test_permuting_the_code_changes_no_score(scores):
    (d1, s1), (d2, s2) = scores["perfect"], scores["permuted"]
    for key in ("disentanglement", "completeness", "informativeness"):
        assert d1[key] == pytest.approx(d2[key], abs=0.01)
    assert s1["sap"] == pytest.approx(s2["sap"], abs=0.01)


def test_a_rotated_code_splits_every_factor_over_two_codes(scores):
    """Each code is read for two of the four factors with equal weight: its
    entropy is log 2 / log 4 = 0.5 of the maximum, so D = C = 0.5; the
    information is all there; SAP finds no separated dimension."""
    d, s = scores["rotated"]
    assert d["disentanglement"] == pytest.approx(0.5, abs=0.05)
    assert d["completeness"] == pytest.approx(0.5, abs=0.05)
    assert d["informativeness"] > 0.95
    assert s["sap"] < 0.05


def test_noise_carries_nothing(scores):
    d, s = scores["noise"]
    assert d["disentanglement"] < 0.1 and d["completeness"] < 0.1
    # chance: 1/3 for the 3 classes, R^2 ~0, the majority 0.6 for binary
    assert d["informativeness"] < 0.3
    assert s["sap"] < 0.05


def test_entropy_scores_on_hand_made_importances():
    one_to_one = np.eye(3)
    assert disentanglement(one_to_one) == pytest.approx(1.0)
    assert completeness(one_to_one) == pytest.approx(1.0)
    # every code equally important for every factor
    assert disentanglement(np.ones((3, 3))) == pytest.approx(0.0)
    assert completeness(np.ones((3, 3))) == pytest.approx(0.0)
    # two codes share factor 0, factor 1 has its own code: D weighs
    # codes by their importance, all three are pure (D = 1); C of factor
    # 0 is 1 - log 2 / log 3.
    shared = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert disentanglement(shared) == pytest.approx(1.0)
    assert completeness(shared) == pytest.approx(
        (1 - np.log(2) / np.log(3) + 1.0) / 2)
    # an unused code weighs nothing; a factor no code reads counts 0
    assert disentanglement(np.array([[1.0, 0], [0, 0]])) == 1.0
    assert completeness(np.array([[1.0, 0], [0, 0]])) == pytest.approx(0.5)


def test_a_dead_latent_and_a_constant_factor_are_handled():
    train, test = _factors(600, 0), _factors(300, 1)
    c_train, c_test = (np.concatenate(  # plus a dead latent
        [_standardised(f), np.zeros((len(f), 1))], axis=1)
        for f in (train, test))
    train[:, 1] = test[:, 1] = 0.5  # a factor that never varies
    d = dci(c_train, train, c_test, test)
    s = separated_attribute_predictability(c_train, train, c_test, test)
    assert d["informativeness_per_factor"][1] == 0.0
    assert s["sap_per_factor"][1] == 0.0
    assert np.all(np.isfinite(d["importance"]))


def test_bad_inputs_name_the_shapes_and_values():
    with pytest.raises(ValueError, match=re.escape(
            "Received: (10, 3), (9, 2)")):
        dci(np.zeros((10, 3)), np.zeros((9, 2)), np.zeros((5, 3)),
            np.zeros((5, 2)))
    with pytest.raises(ValueError, match="codes 3 vs 4"):
        dci(np.zeros((10, 3)), np.zeros((10, 2)), np.zeros((5, 4)),
            np.zeros((5, 2)))
    codes = np.zeros((10, 3))
    codes[0, 0] = np.nan
    with pytest.raises(ValueError, match="codes contain NaN"):
        separated_attribute_predictability(codes, np.zeros((10, 2)),
                                           codes, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="at least 2 latent"):
        separated_attribute_predictability(
            np.zeros((10, 1)), np.zeros((10, 2)), np.zeros((10, 1)),
            np.zeros((10, 2)))
