import numpy as np
import pytest

from vae_tf.samplers import (MixtureSampler, PriorSampler, fit_mixture,
                             load_sampler, save_sampler, select_mixture)

WEIGHTS = np.array([0.5, 0.3, 0.2])
MEANS = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, -6.0]])
COVS = np.array([
    [[1.0, 0.6], [0.6, 1.0]],
    [[0.3, 0.0], [0.0, 2.0]],
    [[0.5, -0.2], [-0.2, 0.4]],
])


def planted(n, seed):
    rng = np.random.default_rng(seed)
    c = rng.choice(3, n, p=WEIGHTS)
    eps = rng.standard_normal((n, 2))
    return (MEANS[c]
            + np.einsum("nij,nj->ni", np.linalg.cholesky(COVS)[c], eps), c)


def _match(fitted):
    """Fitted component index nearest to each planted mean."""
    return [int(np.argmin(np.linalg.norm(fitted.means - m, axis=1)))
            for m in MEANS]


def test_the_mixture_sampler_reproduces_a_planted_mixture():
    z_train, _ = planted(6000, 0)
    z_val, _ = planted(2000, 1)
    fitted = select_mixture(z_train, z_val, candidates=(1, 2, 3, 6), seed=0)
    scores = fitted.selection["validation_log_likelihood"]
    assert scores["3"] > scores["2"] > scores["1"]
    order = _match(fitted) if fitted.num_components == 3 else None
    if order is None:  # 6 may edge out 3 on held-out data; 3 must fit well
        fitted = fit_mixture(z_train, 3, seed=0)
        order = _match(fitted)
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(fitted.weights[order], WEIGHTS, atol=0.02)
    np.testing.assert_allclose(fitted.means[order], MEANS, atol=0.08)
    np.testing.assert_allclose(fitted.covariances[order], COVS, atol=0.1)
    # Its draws have the planted moments.
    z = fitted.sample(20000, seed=3)
    reference, _ = planted(20000, 4)
    np.testing.assert_allclose(z.mean(0), reference.mean(0), atol=0.1)
    np.testing.assert_allclose(np.cov(z.T), np.cov(reference.T), rtol=0.05,
                               atol=0.1)


def test_mixture_log_prob_is_the_weighted_density():
    m = MixtureSampler(WEIGHTS, MEANS, COVS)
    z = np.array([[0.5, -0.5], [6.0, 1.0]])
    dens = np.zeros(2)
    for w, mu, cov in zip(WEIGHTS, MEANS, COVS):
        d = z - mu
        q = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        dens += w * np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))
    np.testing.assert_allclose(m.log_prob(z), np.log(dens), rtol=1e-10)


def test_draws_repeat_per_seed_and_temperature_scales_the_deviation():
    m = MixtureSampler(WEIGHTS, MEANS, COVS)
    a, b = m.sample(500, seed=7), m.sample(500, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, m.sample(500, seed=8))
    cold = m.sample(500, seed=7, temperature=0.5)
    # Same components and noise: the deviation from each row's mean
    # halves, so 2 * cold - a is that mean, one of MEANS, for every row.
    means = 2 * cold - a
    gap = np.abs(means[:, None] - MEANS[None]).max(-1).min(-1)
    assert gap.max() < 1e-5
    assert len({int(np.argmin(np.abs(m - MEANS).max(-1))) for m in means}) \
        == len(MEANS)
    prior = PriorSampler(3)
    np.testing.assert_allclose(prior.sample(4, 1, temperature=0.5),
                               0.5 * prior.sample(4, 1), rtol=1e-6)


def test_samplers_round_trip_through_json(tmp_path):
    m = MixtureSampler(WEIGHTS, MEANS, COVS, selection={"num_components": 3})
    path = str(tmp_path / "sampler.json")
    save_sampler(m, path)
    back = load_sampler(path)
    np.testing.assert_array_equal(back.sample(50, 2), m.sample(50, 2))
    assert back.selection == {"num_components": 3}
    save_sampler(PriorSampler(4), path)
    assert load_sampler(path).latent_dim == 4
    (tmp_path / "bad.json").write_text('{"kind": "flow"}')
    with pytest.raises(ValueError, match="not a vae_tf sampler file"):
        load_sampler(str(tmp_path / "bad.json"))


def test_fit_mixture_refuses_bad_codes():
    with pytest.raises(ValueError, match="finite codes"):
        fit_mixture(np.full((10, 2), np.nan), 2)
    with pytest.raises(ValueError, match="num_components"):
        fit_mixture(np.zeros((3, 2)), 5)
    for bad in (np.zeros((4, 3, 2)), np.zeros(5)):  # not (n, K)
        with pytest.raises(ValueError, match="finite codes of shape"):
            fit_mixture(bad, 1)
    with pytest.raises(ValueError, match="num_components"):
        fit_mixture(np.zeros((3, 2)), 0)
    assert fit_mixture(np.arange(10.0).reshape(5, 2), 5).num_components == 5


def test_one_component_fit_is_the_sample_mean_and_ml_covariance():
    """Bugs in the M-step or the ridge: with C = 1, EM must return the
    sample mean and the maximum-likelihood covariance (divided by n) plus
    ridge * (mean per-dimension variance) on the diagonal."""
    for scale in (1.0, 0.1):  # mean variance above and below 1
        z = scale * planted(500, 3)[0]
        fitted = fit_mixture(z, 1, ridge=1e-2)
        np.testing.assert_allclose(fitted.weights, [1.0])
        np.testing.assert_allclose(fitted.means[0], z.mean(0), atol=1e-10)
        expected = (np.cov(z, rowvar=False, bias=True)
                    + 1e-2 * z.var(0).mean() * np.eye(2))
        np.testing.assert_allclose(fitted.covariances[0], expected,
                                   rtol=1e-8)


def test_kmeans_plus_plus_seeds_one_centre_per_separated_cluster():
    """k-means++ draws each new centre with probability proportional to the
    squared distance to the nearest chosen one: with three tight clusters
    far apart, every seed picks one centre in each."""
    from vae_tf.samplers.fitting import _kmeans_pp

    rng = np.random.default_rng(0)
    # Four clusters (the third centre must enter the distances too), at a
    # large and a small scale (squared distances summing to less than 1).
    for scale in (50.0, 0.05):
        centres = scale * np.array([[0, 0], [1, 0], [0, 1], [1, 1.0]])
        z = np.repeat(centres, 40, axis=0) + (
            scale * 2e-4 * rng.standard_normal((160, 2)))
        for seed in range(20):
            seeds = _kmeans_pp(z, 4, np.random.default_rng(seed))
            nearest = np.argmin(np.linalg.norm(
                seeds[:, None] - centres[None], axis=2), axis=1)
            assert sorted(nearest) == [0, 1, 2, 3], (scale, seed, seeds)


def test_identical_codes_still_fit():
    """All squared distances are 0: k-means++ falls back to uniform draws
    instead of dividing by zero."""
    fitted = fit_mixture(np.ones((20, 3)), 2)
    np.testing.assert_allclose(fitted.means, np.ones((2, 3)))


def test_selection_keeps_the_best_validation_score_and_skips_large_counts():
    z_train, _ = planted(3000, 4)
    z_val, _ = planted(1000, 5)
    chosen = select_mixture(z_train, z_val, candidates=(40, 1, 3, 2))
    scores = chosen.selection["validation_log_likelihood"]
    assert sorted(scores) == ["1", "2", "3", "40"]
    assert str(chosen.num_components) == max(scores, key=scores.get)
    small = select_mixture(z_train[:10], z_val, candidates=(40, 2))
    assert list(small.selection["validation_log_likelihood"]) == ["2"]
    exact = select_mixture(z_train[:5], z_val, candidates=(1, 5))  # C = n
    assert sorted(exact.selection["validation_log_likelihood"]) == ["1", "5"]
    assert select_mixture(z_train[:200], z_val[:50]).num_components >= 1


def test_mixture_weights_are_normalised_and_checked():
    m = MixtureSampler([2.0, 6.0], MEANS[:2], COVS[:2])
    np.testing.assert_allclose(m.weights, [0.25, 0.75])
    assert MixtureSampler([0.0, 1.0], MEANS[:2], COVS[:2]).weights[0] == 0.0
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        MixtureSampler([-1.0, 2.0], MEANS[:2], COVS[:2])
    for weights, covs in (([0.2, 0.3, 0.5], COVS[:2]),  # 3 weights, 2 means
                          ([1.0], COVS[:2]),  # 1 weight
                          ([0.5, 0.5], np.ones((2, 1, 1))),
                          ([0.5, 0.5], np.ones((2, 3, 3)))):
        with pytest.raises(ValueError, match="Inconsistent mixture shapes"):
            MixtureSampler(weights, MEANS[:2], covs)


def test_unknown_sampler_kind_is_named():
    from vae_tf.samplers import sampler_from_dict

    for kind in ("zzz", "gaussian"):
        with pytest.raises(ValueError, match=f"Unknown sampler kind '{kind}'"):
            sampler_from_dict({"kind": kind})


def test_default_seed_and_temperature():
    """`sample(n)` is `sample(n, seed=0)`, and `tf_sample` without a
    temperature draws at temperature 1."""
    import tensorflow as tf

    for sampler in (PriorSampler(2), MixtureSampler(WEIGHTS, MEANS, COVS)):
        np.testing.assert_array_equal(sampler.sample(50),
                                      sampler.sample(50, seed=0))
        seeds = tf.range(3, 53, dtype=tf.int64)
        np.testing.assert_array_equal(
            sampler.tf_sample(seeds).numpy(),
            sampler.tf_sample(seeds, temperature=1.0).numpy())


def test_em_starts_from_the_data_covariance_plus_the_ridge():
    z = planted(300, 6)[0]
    start = fit_mixture(z, 2, max_iter=0, ridge=1e-2)  # no EM step
    expected = np.cov(z, rowvar=False) + 1e-2 * z.var(0).mean() * np.eye(2)
    for c in range(2):
        np.testing.assert_allclose(start.covariances[c], expected, rtol=1e-10)
    np.testing.assert_allclose(start.weights, [0.5, 0.5])


def test_em_stops_at_the_tolerance_or_after_max_iter():
    z = planted(1000, 7)[0]
    assert fit_mixture(z, 3).em_iterations < 100  # converges early
    assert fit_mixture(z, 3, tol=-np.inf).em_iterations == 100  # default
    assert fit_mixture(z, 3, tol=-np.inf, max_iter=7).em_iterations == 7
    loose = fit_mixture(z, 3, tol=1.0).em_iterations
    assert 2 <= loose < fit_mixture(z, 3, tol=1e-6).em_iterations


def test_log_prob_of_many_points_at_once():
    m = MixtureSampler(WEIGHTS, MEANS, COVS)
    # Between the components too, where several contribute to the sum.
    z = np.vstack([planted(5, 8)[0], [[3.0, 0.0], [0.0, -3.0], [2.0, -2.0]]])
    np.testing.assert_allclose(m.log_prob(z),
                               [m.log_prob(row[None])[0] for row in z])


def test_fitting_defaults_seed_0_and_the_documented_candidates():
    """The README documents 1, 2, 5, 10, 20 or 40 components, and seed 0."""
    z_train, _ = planted(400, 9)
    z_val, _ = planted(100, 10)
    np.testing.assert_array_equal(fit_mixture(z_train, 3).means,
                                  fit_mixture(z_train, 3, seed=0).means)
    chosen = select_mixture(z_train, z_val)
    assert list(chosen.selection["validation_log_likelihood"]) == [
        "1", "2", "5", "10", "20", "40"]
    np.testing.assert_array_equal(
        chosen.means, select_mixture(z_train, z_val, seed=0).means)


@pytest.mark.parametrize("make", [lambda: PriorSampler(3),
                                  lambda: MixtureSampler(WEIGHTS, MEANS,
                                                         COVS)])
def test_each_row_is_the_draw_of_its_own_seed(make):
    """What TF Serving's batching relies on: row i of a draw depends on
    seeds[i] alone, so a row drawn with others equals the row drawn
    alone, and sample(n, seed)'s row i is the draw of seed + i."""
    sampler = make()
    seeds = np.array([5, -3, 2**63 - 1, 5, 0], np.int64)
    together = sampler.sample(5, seeds=seeds)
    for i, seed in enumerate(seeds):
        np.testing.assert_array_equal(together[i],
                                      sampler.sample(1, seeds=[seed])[0])
    np.testing.assert_array_equal(together[0], together[3])  # same seed
    np.testing.assert_array_equal(sampler.sample(8, seed=10)[3],
                                  sampler.sample(1, seed=13)[0])
    assert sampler.sample(0).shape == (0, sampler.latent_dim)


def test_row_seeds_count_up_and_wrap_as_int64():
    from vae_tf._internal.seeds import as_seeds, row_seeds

    assert row_seeds(3, 7).tolist() == [7, 8, 9]
    assert row_seeds(2, 2**63 - 1).tolist() == [2**63 - 1, -2**63]
    assert row_seeds(1, -1).tolist() == [-1]
    assert row_seeds(0).dtype == np.int64
    for bad in (-1, 2.0):
        with pytest.raises(ValueError, match="Expected n >= 0 rows"):
            row_seeds(bad)
    for bad in ([1.5], [[1, 2]], 3):
        with pytest.raises(ValueError, match="1-D array of integers"):
            as_seeds(bad)
    with pytest.raises(ValueError, match="one seed per row"):
        PriorSampler(2).sample(3, seeds=[1, 2])
