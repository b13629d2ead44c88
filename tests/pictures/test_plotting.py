"""PNGs written without TensorFlow decode (with TensorFlow's decoder) to the
exact pixels given."""

import numpy as np
import pytest
import tensorflow as tf

from vae_tf.pictures.png import encode_png, image_grid, save_png


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_bytes_decode_to_the_same_pixels(channels):
    image = np.random.default_rng(channels).integers(
        0, 256, (7, 5, channels), dtype=np.uint8)
    decoded = tf.io.decode_png(encode_png(image)).numpy()  # its own C
    np.testing.assert_array_equal(decoded, image)


def test_saved_float_grid_is_the_quantized_images(tmp_path):
    images = np.random.default_rng(0).uniform(size=(6, 4, 3, 3))
    path = tmp_path / "grid.png"
    save_png(path, image_grid(images, rows=2))
    decoded = tf.io.decode_png(tf.io.read_file(str(path))).numpy()
    np.testing.assert_array_equal(decoded, image_grid(images, rows=2))
    tile = decoded[2:6, 2:5]  # first tile, after the 2-pixel padding
    np.testing.assert_array_equal(tile, np.round(images[0] * 255))


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match=r"C in 1..4.*\(2, 2, 5\)"):
        encode_png(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match=r"non-empty.*\(0, 3, 1\)"):
        encode_png(np.zeros((0, 3, 1), np.uint8))
