import numpy as np
import pytest

from vae_tf import SoftClip, build_vae


def test_soft_clip_basics(check_layer):
    check_layer(SoftClip, {"limit": 5.0}, np.zeros((2, 3), np.float32),
                [(2, 3)])


def test_soft_clip_bounds_and_is_identity_near_zero():
    x = np.array([-1e6, -30.0, -0.01, 0.0, 0.01, 30.0, 1e6], np.float32)
    y = SoftClip(limit=10.0)(x).numpy()
    assert np.all(np.abs(y) <= 10.0)
    np.testing.assert_allclose(y[2:5], x[2:5], rtol=1e-4)
    assert np.all(np.isfinite(np.exp(0.5 * y)))


def test_huge_log_variance_weights_cannot_overflow_exp(tiny_config):
    models = build_vae(tiny_config)
    raw = models.encoder.get_layer("z_log_var_raw")
    raw.bias.assign(np.full(raw.bias.shape, 1e4, np.float32))  # exp(5e3) = inf
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    z_mean, z_log_var, z = models.encoder(x)
    assert np.all(np.isfinite(z)) and np.all(z_log_var.numpy() <= 10.0)
    assert np.isfinite(float(models.encoder.losses[0]))  # the KL term


def test_bad_limit():
    for bad in (0, -1.0, "3"):
        with pytest.raises(ValueError, match="limit="):
            SoftClip(limit=bad)
    assert SoftClip(limit=0.5).limit == 0.5  # any positive limit
    assert SoftClip().limit == 10.0  # the documented default
