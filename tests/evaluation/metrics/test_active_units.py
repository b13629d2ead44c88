import numpy as np
import pytest

from vae_tf.evaluation.metrics import active_units


def test_constant_dimension_is_inactive():
    rng = np.random.default_rng(0)
    z = np.stack([rng.normal(size=500), np.full(500, 0.7),
                  rng.normal(scale=0.05, size=500)], axis=1)
    result = active_units(z)
    assert result["active_units"] == 1  # 0.05^2 = 0.0025 < 0.01
    assert result["activity"][1] < 1e-20


def test_the_default_threshold_is_burdas_0_01_and_strict():
    """Burda et al. count A_u > 0.01: variances 0.02 and 0.005 fall on
    either side, and a variance equal to the threshold is not active."""
    z = np.array([[-1.0, 0.2, -0.05], [1.0, -0.2, 0.05]])  # var 1, .04, .0025
    assert active_units(z)["active_units"] == 2
    assert active_units(z, threshold=1.0)["active_units"] == 0


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError, match="num_points"):
        active_units(np.zeros(5))
    with pytest.raises(ValueError, match=r"Received: \(4, 2, 2\)"):
        active_units(np.zeros((4, 2, 2)))


def test_two_points_are_enough_and_one_is_not():
    assert active_units(np.array([[0.0, 1.0], [1.0, 1.0]]))["activity"] == [
        0.25, 0.0]
    with pytest.raises(ValueError, match="num_points >= 2"):
        active_units(np.zeros((1, 3)))
