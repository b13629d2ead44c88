import numpy as np
import pytest

from vae_tf.evaluation.metrics.frechet import (aggregate_posterior_gap,
                                               frechet_distance)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    # FD = |m1 - m2|^2 + sum (s1 - s2)^2 when both covariances are diagonal.
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, (200000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(0.0, 1.0, (200000, 3)) * [1.5, 2.0, 0.1] + [1.0, 0.0, -2.0]
    expected = (1 + 0 + 4) + (0.5**2 + 0 + 0.4**2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.01)


def test_frechet_distance_is_near_zero_for_two_draws_of_one_set():
    rng = np.random.default_rng(1)
    cov = np.cov(rng.normal(size=(50, 8)), rowvar=False)
    draw = lambda: rng.multivariate_normal(np.ones(8), cov, 20000)  # noqa: E731
    a, b = draw(), draw()
    same = frechet_distance(a, b)
    assert same < 0.01
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b + 0.5) > 100 * same  # a shift shows


def test_frechet_distance_refuses_bad_features():
    with pytest.raises(ValueError, match="widths differ: 2 vs 3"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="widths differ: 3 vs 2"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="n >= 2"):
        frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, d\).*\(5, 2, 2\)"):
        frechet_distance(np.zeros((5, 2, 2)), np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, d\).*\(5,\)"):
        frechet_distance(np.zeros(5), np.zeros(5))


def test_round_off_never_makes_a_distance_negative():
    """FD(x, x) is 0 up to round-off, which goes below 0 for about 40% of
    such sets; the result is clipped at 0 (a squared distance)."""
    for seed in range(20):
        x = np.random.default_rng(seed).normal(size=(50, 8))
        assert frechet_distance(x, x) >= 0.0, seed


def test_a_planted_wide_aggregate_posterior_is_detected():
    rng = np.random.default_rng(2)
    matched = aggregate_posterior_gap(rng.normal(size=(20000, 6)))
    assert matched["gaussian_fit_kl"] < 0.01
    assert np.allclose(matched["z_mean_std"], 1.0, atol=0.03)
    wide = aggregate_posterior_gap(2.2 * rng.normal(size=(20000, 6)))
    # KL of N(0, 2.2^2 I) from N(0, I): 6 * 0.5 * (4.84 - 1 - log 4.84).
    assert wide["gaussian_fit_kl"] == pytest.approx(
        3 * (4.84 - 1 - np.log(4.84)), rel=0.03
    )
    assert wide["z_mean_std_mean"] == pytest.approx(2.2, rel=0.02)


def test_a_collapsed_code_dimension_gives_a_finite_kl():
    """A dead latent (constant z_mean) has zero variance: the Gaussian
    fit's log det is regularised (1e-9), so the KL is large but finite
    (an `inf` would not even be valid JSON in the evaluation report)."""
    rng = np.random.default_rng(3)
    z = np.stack([rng.normal(size=1000), np.full(1000, 0.3)], axis=1)
    kl = aggregate_posterior_gap(z)["gaussian_fit_kl"]
    # 0.5 * (0 + 0.09 - 1 - log 1e-9) for the dead dimension, ~0 for the other.
    assert np.isfinite(kl)
    assert kl == pytest.approx(0.5 * (0.09 - 1 - np.log(1e-9)), abs=0.05)


def test_two_points_per_set_are_enough():
    a = np.array([[0.0, 0.0], [2.0, 0.0]])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-12)
    assert frechet_distance(a, a + [0.0, 3.0]) == pytest.approx(9.0)


def test_fewer_points_than_features_give_a_finite_distance():
    """With n < d the covariance is singular: its eigenvalues include
    round-off below 0, which the square root must clip, not turn to NaN."""
    import warnings

    rng = np.random.default_rng(0)
    few, many = rng.normal(size=(3, 8)), rng.normal(size=(50, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value in sqrt"
        fd = frechet_distance(few, many)
    assert np.isfinite(fd) and fd > 0
