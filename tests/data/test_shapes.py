import numpy as np

from vae_tf.data.shapes import FACTORS, make_shapes, render_shapes


def test_shapes_factors_and_determinism():
    images, factors = make_shapes(50, seed=2)
    assert images.shape == (50, 64, 64, 1) and images.dtype == np.uint8
    assert set(factors) == set(FACTORS)
    np.testing.assert_array_equal(images, make_shapes(50, seed=2)[0])


def _render(**f):
    return render_shapes({k: np.array([v]) for k, v in f.items()})[0, ..., 0]


def test_position_and_scale_factors_move_and_grow_the_shape():
    base = dict(shape=0, scale=0.5, rotation=0.0, x=0.2, y=0.5)
    left = _render(**base)
    right = _render(**{**base, "x": 0.8})

    def col(img):
        return (img.astype(float).sum(0) * np.arange(64)).sum() / img.sum()

    assert col(right) - col(left) > 10
    small = _render(**{**base, "scale": 0.0})
    big = _render(**{**base, "scale": 1.0})
    assert (big > 127).sum() > 2 * (small > 127).sum()


def test_each_shape_differs():
    base = dict(scale=1.0, rotation=0.3, x=0.5, y=0.5)
    imgs = [_render(shape=s, **base) for s in range(3)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(
                imgs[i].astype(int) - imgs[j].astype(int)).sum() > 1000
