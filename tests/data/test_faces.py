import numpy as np
import pytest

from vae_tf.data import faces
from vae_tf.data.faces import (ATTRIBUTES, GLASSES_COLOR, make_faces,
                               render_faces, sample_attributes)


def _count_color(images, rgb, tol=0.04):
    x = images.astype(np.float32) / 255.0
    close = np.all(np.abs(x - np.asarray(rgb)) < tol, axis=-1)
    return close.sum(axis=(1, 2))


def test_shapes_dtypes_and_determinism():
    a_img, a_attr = make_faces(40, seed=3)
    b_img, b_attr = make_faces(40, seed=3)
    assert a_img.shape == (40, 64, 64, 3) and a_img.dtype == np.uint8
    np.testing.assert_array_equal(a_img, b_img)
    assert set(a_attr) == set(ATTRIBUTES)
    assert all(v.shape == (40,) for v in a_attr.values())
    c_img, _ = make_faces(40, seed=4)
    assert not np.array_equal(a_img, c_img)


def test_glasses_pixels_present_iff_glasses():
    images, attrs = make_faces(300, seed=0)
    frame_pixels = _count_color(images, GLASSES_COLOR)
    with_glasses = attrs["glasses"] == 1
    assert with_glasses.any() and (~with_glasses).any()
    assert frame_pixels[with_glasses].min() >= 20
    assert frame_pixels[~with_glasses].max() == 0


def _one_face(**overrides):
    attrs = {k: v[:1] for k, v in sample_attributes(1, seed=0).items()}
    base = dict(smile=0.0, skin_tone=0.2, hair_color=0, glasses=0, beard=0,
                pose=0.0, x=0.0, y=0.0, size=1.0, background=0.5)
    base.update(overrides)
    attrs.update({k: np.array([v]) for k, v in base.items()})
    return render_faces(attrs)[0].astype(np.float32) / 255.0


def _mouth_rows(img):
    """Rows containing mouth-red pixels, per column."""
    red = np.all(np.abs(img - np.array([0.72, 0.12, 0.15])) < 0.08, axis=-1)
    return red


def test_smile_moves_mouth_centre_below_corners():
    for smile, sign in ((1.0, 1), (-1.0, -1)):
        red = _mouth_rows(_one_face(smile=smile))
        cols = np.where(red.any(axis=0))[0]
        centre = cols[len(cols) // 2]
        rows_c = np.where(red[:, centre])[0].mean()
        rows_k = np.mean([np.where(red[:, c])[0].mean() for c in cols[[0, -1]]])
        # Image rows grow downwards: a smile has its centre lower.
        assert sign * (rows_c - rows_k) >= 2.0


def test_beard_and_hair_colour_change_the_pixels_they_name():
    plain = _one_face()
    bearded = _one_face(beard=1)
    changed = np.any(np.abs(plain - bearded) > 0.05, axis=-1)
    rows = np.where(changed.any(axis=1))[0]
    assert changed.sum() > 50
    assert rows.min() > 32  # beard is on the lower half of the face
    blond = _one_face(hair_color=2)
    blond_px = _count_color((blond * 255).astype(np.uint8)[None],
                            faces.HAIR_COLORS["blond"])
    assert blond_px[0] > 50
    assert _count_color((plain * 255).astype(np.uint8)[None],
                        faces.HAIR_COLORS["blond"])[0] == 0


def _python_calls(**kwargs) -> int:
    """Python and C function calls `make_faces(**kwargs)` makes."""
    import sys

    calls = [0]

    def count(frame, event, arg):
        calls[0] += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        make_faces(seed=0, **kwargs)
    finally:
        sys.setprofile(None)
    return calls[0]


def test_faces_are_drawn_a_chunk_at_a_time_not_per_image_or_pixel():
    """What makes the default 10,000 faces take seconds: the Python work
    is per chunk of images, whatever their number within a chunk and
    their size (a per-image or per-pixel loop would add calls)."""
    from vae_tf.data.faces import _CHUNK

    _python_calls(n=2)  # first-call imports and caches
    one_chunk = _python_calls(n=_CHUNK + 1, image_size=16)
    assert _python_calls(n=2 * _CHUNK, image_size=16) == one_chunk
    assert _python_calls(n=2 * _CHUNK, image_size=96) == one_chunk


def test_bad_arguments():
    with pytest.raises(ValueError, match="n=0"):
        make_faces(0)
    with pytest.raises(ValueError, match="image_size"):
        make_faces(2, image_size=8)
