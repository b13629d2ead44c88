import numpy as np
import pytest

from vae_tf.metrics import active_units


def test_constant_dimension_is_inactive():
    rng = np.random.default_rng(0)
    z = np.stack([rng.normal(size=500), np.full(500, 0.7),
                  rng.normal(scale=0.05, size=500)], axis=1)
    result = active_units(z)
    assert result["active_units"] == 1  # 0.05^2 = 0.0025 < 0.01
    assert result["activity"][1] < 1e-20


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError, match="num_points"):
        active_units(np.zeros(5))


def test_two_points_are_enough_and_one_is_not():
    assert active_units(np.array([[0.0, 1.0], [1.0, 1.0]]))["activity"] == [
        0.25, 0.0]
    with pytest.raises(ValueError, match="num_points >= 2"):
        active_units(np.zeros((1, 3)))
