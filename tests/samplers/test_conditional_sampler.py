"""Class-conditional mixture draws (`vae_tf.samplers.conditional`): a
conditional VAE's codes still carry its classes, so the mixture's weights
and means follow the requested classes."""

import numpy as np
import pytest

from vae_tf.samplers import MixtureSampler
from vae_tf.samplers.fitting import fit_mixture
from vae_tf.samplers.storage import sampler_from_dict


def _codes(n=4000, seed=0):
    """2-D codes: class 1 around x = +3, class 0 around x = -3; a second,
    unrelated binary factor that shifts nothing."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    other = rng.integers(0, 2, n)
    z = rng.standard_normal((n, 2)) * 0.5
    z[:, 0] += np.where(label == 1, 3.0, -3.0)
    return z, {"label": np.eye(2)[label], "other": np.eye(2)[other]}


def _rows(n, label, other=0):
    return {"label": np.tile(np.eye(2)[label], (n, 1)),
            "other": np.tile(np.eye(2)[other], (n, 1))}


@pytest.mark.parametrize("components", [1, 2, 4])
def test_draws_follow_the_requested_class(components):
    """Class weights move the draws between components; with one
    component the class mean shifts do it alone."""
    z, conditions = _codes()
    mixture = fit_mixture(z, components, seed=0)
    conditioned = mixture.with_conditions(z, conditions)
    for label, sign in ((1, 1), (0, -1)):
        draws = conditioned.sample(500, seed=1, conditions=_rows(500, label))
        if components == 1:  # one wide component, its mean moved
            assert abs(draws[:, 0].mean() - 3.0 * sign) < 0.3
        else:
            assert np.mean(np.sign(draws[:, 0]) == sign) >= 0.97
    plain = mixture.sample(2000, seed=1)
    assert 0.4 < np.mean(plain[:, 0] > 0) < 0.6


def test_a_blend_or_no_condition_draws_both_classes():
    z, conditions = _codes()
    conditioned = fit_mixture(z, 2, seed=0).with_conditions(z, conditions)
    half = {"label": np.full((2000, 2), 0.5), "other": _rows(2000, 0)[
        "other"]}
    for given in (half, None, {"other": _rows(2000, 1)["other"]}):
        draws = conditioned.sample(2000, seed=2, conditions=given)
        assert 0.35 < np.mean(draws[:, 0] > 0) < 0.65


def test_rows_depend_on_their_own_seed_and_condition_only():
    """TF Serving merges requests: row i must not depend on the others."""
    z, conditions = _codes()
    conditioned = fit_mixture(z, 3, seed=0).with_conditions(z, conditions)
    seeds = np.arange(10, 16)
    rows = {k: np.concatenate([_rows(3, 1)[k], _rows(3, 0)[k]])
            for k in ("label", "other")}
    together = conditioned.sample(6, seeds=seeds, conditions=rows)
    for i in range(6):
        alone = conditioned.sample(1, seeds=seeds[i:i + 1], conditions={
            k: v[i:i + 1] for k, v in rows.items()})
        np.testing.assert_allclose(alone[0], together[i], atol=1e-6)


def test_tables_round_trip_and_refuse_bad_shapes():
    z, conditions = _codes()
    conditioned = fit_mixture(z, 2, seed=0).with_conditions(z, conditions)
    again = sampler_from_dict(conditioned.to_dict())
    given = _rows(8, 1)
    np.testing.assert_allclose(
        again.sample(8, seed=3, conditions=given),
        conditioned.sample(8, seed=3, conditions=given), atol=1e-6)
    # Without tables, or without conditions, the draws are the plain
    # mixture's (existing exports' seeds keep their images).
    np.testing.assert_array_equal(
        conditioned.sample(8, seed=3),
        fit_mixture(z, 2, seed=0).sample(8, seed=3))
    bad = conditioned.to_dict()
    bad["condition_tables"]["label"]["shifts"] = [[0.0]]
    with pytest.raises(ValueError, match="Condition table 'label'"):
        sampler_from_dict(bad)
    assert isinstance(again, MixtureSampler)
