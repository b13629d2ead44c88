import re

import numpy as np
import pytest

from vae_tf.evaluation.metrics import mutual_information_gap
from vae_tf.evaluation.metrics.utils import (discretize, entropy,
                                             mutual_information)


def _factors(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([
        rng.integers(0, 3, n),            # discrete, like shape
        rng.uniform(0, 1, n),             # continuous, like x position
        rng.uniform(-1, 1, n),            # continuous, like smile
    ], axis=1)


def test_true_factors_as_codes_score_near_one():
    f = _factors()
    noise = np.random.default_rng(1).normal(size=(len(f), 2))
    codes = np.concatenate([f, noise], axis=1)  # factors plus 2 nuisance dims
    assert mutual_information_gap(codes, f)["mig"] > 0.9


def test_mig_is_normalized_by_the_factor_entropy():
    """A code equal to a two-valued factor, beside a constant code: the gap
    is H(f) = log 2 nats, and MIG = gap / H(f) = 1 exactly."""
    f = np.array([0, 1, 0, 1, 1, 0, 0, 1], float)[:, None]
    codes = np.concatenate([f, np.zeros_like(f)], axis=1)
    assert mutual_information_gap(codes, f)["mig"] == pytest.approx(1.0)


def test_the_default_is_20_bins_as_in_disentanglement_lib():
    """MIG depends on the binning; 20 bins (disentanglement_lib's
    `discretizer_fn` default) keeps our numbers comparable to published
    ones."""
    f = _factors(500)
    codes = np.random.default_rng(3).normal(size=(500, 4)) + f[:, 1:2]
    np.testing.assert_array_equal(discretize(codes.T),
                                  discretize(codes.T, num_bins=20))
    assert mutual_information_gap(codes, f) == mutual_information_gap(
        codes, f, num_bins=20)


def test_noise_codes_score_near_zero():
    f = _factors()
    codes = np.random.default_rng(2).normal(size=(len(f), 6))
    assert mutual_information_gap(codes, f)["mig"] < 0.05


def test_duplicated_latents_score_near_zero():
    f = _factors()
    codes = np.concatenate([f, f], axis=1)  # every factor in two latents
    assert mutual_information_gap(codes, f)["mig"] < 0.05


def test_helpers_on_known_values():
    a = np.array([0, 0, 1, 1])
    assert np.isclose(entropy(a), np.log(2))
    assert np.isclose(mutual_information(a, a), np.log(2))
    assert np.isclose(mutual_information(a, np.array([0, 1, 0, 1])), 0.0)
    bins = discretize(np.linspace(0, 1, 100)[None], num_bins=10)
    assert bins.min() == 0 and bins.max() == 9


def test_a_collapsed_latent_carries_no_information():
    """An inactive latent dimension discretizes to one bin: its MI with any
    factor is 0 (bug: the joint table sized from twice the largest code,
    which has no row for a constant)."""
    constant = np.zeros(6, int)
    factor = np.array([0, 1, 2, 0, 1, 2])
    assert mutual_information(constant, factor) == 0.0
    assert mutual_information(factor, constant) == 0.0


def test_few_distinct_values_keep_their_own_categories():
    """A row with exactly `num_bins` distinct values is already discrete:
    unevenly spaced values must not be merged by equal-width bins."""
    row = np.concatenate([np.arange(4) * 0.01, [100.0]])  # 5 distinct
    np.testing.assert_array_equal(discretize(row[None], num_bins=5)[0],
                                  [0, 1, 2, 3, 4])
    # and fewer distinct values than bins (a factor with 3 classes, 20 bins)
    row = np.array([0.0, 0.01, 100.0, 0.01])
    np.testing.assert_array_equal(discretize(row[None], num_bins=20)[0],
                                  [0, 1, 2, 1])


def test_mig_needs_two_latents_and_scores_a_constant_factor_zero():
    import warnings

    f = _factors(500)
    with pytest.raises(ValueError, match="at least 2 latent"):
        mutual_information_gap(f[:, :1], f)
    factors = np.concatenate([f[:, :1], np.zeros((500, 1))], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0 for the constant factor
        result = mutual_information_gap(f[:, :2], factors)
    assert result["mig_per_factor"][1] == 0.0
    assert result["mig_per_factor"][0] > 0.9


@pytest.mark.parametrize("codes_shape, factors_shape", [
    ((100, 3), (99, 2)),   # factors one point short
    ((99, 3), (100, 2)),   # codes one point short
    ((100,), (100, 2)),    # codes of rank 1
    ((100, 3, 1), (100, 2)),  # codes of rank 3
    ((100, 3), (100, 2, 1)),  # factors of rank 3
    ((100, 3), (100,)),    # factors of rank 1
])
def test_mig_refuses_mismatched_inputs_naming_their_shapes(codes_shape,
                                                           factors_shape):
    with pytest.raises(ValueError, match="Expected codes .*Received: "
                       f"{re.escape(str(codes_shape))}, "
                       f"{re.escape(str(factors_shape))}"):
        mutual_information_gap(np.zeros(codes_shape), np.zeros(factors_shape))
