import keras
import numpy as np
import pytest

from vae_tf.evaluation.probe import Factor, Probe
from vae_tf.evaluation.quality import edit_effect, sample_quality


def _colour_probe(smile_std=1.0):
    """A hand-made probe: `smile` reads the red mean (times `smile_std`,
    the data's std it is decoded with), `glasses` is 1 when the green mean
    exceeds 0.5, the features are the channel means."""
    image = keras.Input((4, 4, 3))
    means = keras.layers.GlobalAveragePooling2D()(image)
    red = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(
        [[1.0], [0.0], [0.0]]), use_bias=False)(means)
    logits = keras.layers.Dense(
        2, kernel_initializer=keras.initializers.Constant(
            [[0.0, 0.0], [-10.0, 10.0], [0.0, 0.0]]),
        bias_initializer=keras.initializers.Constant([5.0, -5.0]))(means)
    model = keras.Model(image, {"features": means, "smile": red,
                                "glasses": logits})
    return Probe(model, [Factor("smile", "continuous", std=smile_std),
                         Factor("glasses", "binary", 2)])


def _grid(red_per_strength, green):
    n, s = len(green), len(red_per_strength)
    grid = np.zeros((n, s, 4, 4, 3), np.float32)
    grid[..., 0] = np.asarray(red_per_strength)[None, :, None, None]
    grid[..., 1] = np.asarray(green)[..., None, None] if np.ndim(green) == 2 \
        else np.asarray(green)[:, None, None, None]
    return grid


def test_edit_effect_sees_a_rising_attribute_and_kept_factors():
    probe = _colour_probe()
    green = np.array([0.2, 0.8, 0.9, 0.1])
    effect = edit_effect(probe, _grid([0.1, 0.3, 0.6], green), "smile",
                         [0, 1, 2])
    np.testing.assert_allclose(effect["attribute_mean"], [0.1, 0.3, 0.6],
                               rtol=1e-5)
    assert effect["monotonic"] and effect["min_unchanged"] == 1.0
    # A flat attribute is not monotonic; a flipped factor is counted.
    flat = edit_effect(probe, _grid([0.3, 0.3, 0.6], green), "smile",
                       [0, 1, 2])
    assert not flat["monotonic"]
    # A class share that reaches 100% and stays there still rises; one that
    # stalls below it does not.
    for shares, rises in (([0.0, 0.8, 1.0, 1.0], True),
                          ([0.0, 0.8, 0.8, 1.0], False)):
        on = (np.arange(5)[:, None] < np.array(shares) * 5) * 0.8 + 0.1
        edited = edit_effect(probe, _grid([0.3] * 4, on), "glasses",
                             [0, 1, 2, 3])
        assert edited["attribute_mean"] == pytest.approx(shares)
        assert edited["monotonic"] == rises, shares
    flipping = np.array([[0.2, 0.2, 0.8], [0.8, 0.8, 0.8], [0.9, 0.9, 0.9],
                         [0.1, 0.1, 0.1]])
    changed = edit_effect(probe, _grid([0.1, 0.3, 0.6], flipping), "smile",
                          [0, 1, 2])
    assert changed["unchanged"]["glasses"] == [1.0, 1.0, 0.75]
    assert changed["min_unchanged"] == 0.75
    with pytest.raises(ValueError, match="does not read 'beard'"):
        edit_effect(probe, _grid([0.1], green), "beard", [0])


def test_edit_effect_measures_what_an_edit_drags_along():
    """Glasses edited (green flips on for more faces per strength) while
    the red mean, which the probe reads as smile, drifts: the smile's
    leakage is its mean |change| from the strength-0 face in the data's
    stds (0.5 here), the glasses' change the share of faces flipped."""
    probe = _colour_probe(smile_std=0.5)
    green = np.array([[0.2, 0.8, 0.8], [0.1, 0.1, 0.8], [0.2, 0.2, 0.2],
                      [0.1, 0.8, 0.9]])
    effect = edit_effect(probe, _grid([0.1, 0.3, 0.6], green), "glasses",
                         [0, 1, 2])
    np.testing.assert_allclose(effect["target_change"], [0, 0.5, 0.75])
    # readings 0.05, 0.15, 0.30 -> |change| 0, 0.1, 0.25 -> / 0.5 std
    np.testing.assert_allclose(effect["leakage"]["smile"], [0, 0.2, 0.5],
                               rtol=1e-5)
    assert effect["max_leakage"]["smile"] == pytest.approx(0.5, rel=1e-5)
    assert effect["worst_leak"][0] == "smile"
    assert "glasses" not in effect["leakage"]
    # nothing drifts: no leakage
    still = edit_effect(probe, _grid([0.3, 0.3, 0.3], green), "glasses",
                        [0, 1, 2])
    assert still["max_leakage"] == {"smile": 0.0}


def test_sample_quality_scores_a_perfect_and_a_broken_decoder():
    # Identity "VAE" on 4x4 images: codes are the pixels, samples come
    # from a sampler fitted to the codes; reconstructions are exact.
    from vae_tf.samplers import fit_mixture

    probe = _colour_probe()
    rng = np.random.default_rng(0)
    real = rng.uniform(0.2, 0.8, (400, 4, 4, 3)).astype(np.float32)
    floor = rng.uniform(0.2, 0.8, (400, 4, 4, 3)).astype(np.float32)
    attrs = {"smile": real[..., 0].mean((1, 2)),
             "glasses": (real[..., 1].mean((1, 2)) > 0.5).astype(np.int32)}
    inp = keras.Input((4, 4, 3))
    flat = keras.layers.Flatten()(inp)
    encoder = keras.Model(inp, [flat, flat, flat])
    z = keras.Input((48,))
    decoder = keras.Model(z, keras.layers.Reshape((4, 4, 3))(z))
    sampler = fit_mixture(real.reshape(400, -1), 1)
    good = sample_quality(probe, encoder, decoder, sampler, real, attrs, floor)
    assert good["fd_reconstructions"] == pytest.approx(0.0, abs=1e-9)
    assert good["fd_samples"] < 0.01 and good["fd_floor"] < 0.01
    assert good["attributes"]["glasses"]["reconstructions"]["recall"] == 1.0
    dark = keras.Model(z, keras.layers.Reshape((4, 4, 3))(
        keras.layers.Rescaling(0.3)(z)))
    bad = sample_quality(probe, encoder, dark, sampler, real, attrs, floor)
    assert bad["fd_reconstructions"] > 100 * max(good["fd_floor"], 1e-4)
    assert bad["attributes"]["glasses"]["reconstructions"]["recall"] == 0.0
