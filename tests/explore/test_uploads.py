"""What the explorer does with any file a visitor uploads (`uploads`):
too large or not an image is refused with a sentence for the page; odd
modes are converted and said so. No browser, no TensorFlow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from vae_tf.explore.uploads import (MAX_PIXELS, MAX_UPLOAD_BYTES,
                                    UploadError, read_upload)


def header_only_png(path, width, height):
    """A PNG whose header claims `width x height` (a decompression bomb's
    first bytes): nothing past the header may be decoded."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("width, height, shown", [
    (20_000, 20_000, "400,000,000"),  # past Pillow's own bomb limit
    (6_000, 5_000, "6,000 x 5,000 = 30,000,000"),  # past ours only
])
def test_too_many_pixels_are_refused_from_the_header(tmp_path, width,
                                                     height, shown):
    path = header_only_png(tmp_path / "bomb.png", width, height)
    with pytest.raises(UploadError) as raised:
        read_upload(str(path))
    assert str(raised.value) == (
        f"bomb.png has {shown} pixels: uploads are limited to "
        f"{MAX_PIXELS:,} pixels. Scale it down first.")


def test_too_many_bytes_are_refused_unread(tmp_path):
    path = tmp_path / "big.png"
    with open(path, "wb") as f:
        f.truncate(MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadError, match=r"big.png is 20.0 MB: uploads "
                       r"are limited to 20 MB"):
        read_upload(str(path))


def test_not_an_image_and_a_damaged_one_say_so(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UploadError, match="notes.txt is not an image this "
                       "page reads"):
        read_upload(str(tmp_path / "notes.txt"))
    whole = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(
        0, 255, (64, 64, 3), np.uint8)).save(whole)
    whole.write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(UploadError, match="cut.png is damaged"):
        read_upload(str(whole))


def test_odd_modes_become_eight_bit_pixels_with_a_note(tmp_path):
    ramp = (np.arange(32 * 32).reshape(32, 32) * 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    pixels, notes = read_upload(str(tmp_path / "g16.png"))
    assert pixels.dtype == np.uint8 and pixels.shape == (32, 32)
    np.testing.assert_array_equal(pixels, np.round(ramp / 65535 * 255))
    assert notes == ["16-bit grey, scaled to 8 bits"]

    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    pixels, notes = read_upload(str(tmp_path / "c.jpg"))
    assert pixels.shape == (30, 40, 3) and notes == ["CMYK converted to RGB"]
    assert pixels[0, 0, 0] > 200 and pixels[0, 0, 1:].max() < 50  # red

    Image.new("RGB", (8, 8), (10, 200, 30)).convert("P").save(
        tmp_path / "p.png")
    pixels, notes = read_upload(str(tmp_path / "p.png"))
    with Image.open(tmp_path / "p.png") as palette:  # the colour it holds
        assert tuple(pixels[0, 0]) == palette.convert("RGB").getpixel(
            (0, 0))
    assert notes == ["palette converted to RGB"]

    frames = [Image.new("RGB", (16, 16), (60 * i, 0, 0)) for i in range(4)]
    frames[0].save(tmp_path / "a.gif", save_all=True,
                   append_images=frames[1:])
    pixels, notes = read_upload(str(tmp_path / "a.gif"))
    assert pixels.max() == 0  # the first frame (black), not a later one
    assert notes[0] == "animated: the first of its 4 frames"
