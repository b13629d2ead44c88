"""Photos from a user's folder: fitting (crop/pad/stretch), formats,
recursion, unreadable files skipped and listed, or refused with strict."""

import numpy as np
import pytest
from PIL import Image

from photo_folder import BROKEN, make_photo_folder
from vae_tf.data import DataError, load_data
from vae_tf.data.folder import load_folder, plan_folder
from vae_tf.data.photos import UnreadableImage, find_images, read_image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


@pytest.fixture
def bands(tmp_path):
    """A 20x40 (h x w) PNG: red, green, blue columns of 10, 20, 10 px."""
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :10], img[:, 10:30], img[:, 30:] = RED, GREEN, BLUE
    path = tmp_path / "bands.png"
    Image.fromarray(img).save(path)
    return str(path)


def test_crop_keeps_the_centre(bands):
    out = read_image(bands, (16, 16), 3, "crop")
    # The central 20x20 square is all green (the resampling kernel
    # reaches one pixel past the crop at the edges).
    assert out.shape == (16, 16, 3)
    assert (np.abs(out[:, 1:15].astype(int) - GREEN) <= 1).all()
    assert (np.abs(out.astype(int) - GREEN) <= 10).all()


def test_pad_fits_inside_on_black(bands):
    out = read_image(bands, (16, 16), 3, "pad")
    # Scaled to 16 wide, 8 high, centred: 4 black rows above and below.
    assert (out[:4] == 0).all() and (out[12:] == 0).all()
    middle = out[4:12].astype(int)
    assert (np.abs(middle[:, :3] - RED) <= 2).all()
    assert (np.abs(middle[:, 5:11] - GREEN) <= 2).all()
    assert (np.abs(middle[:, 13:] - BLUE) <= 2).all()


def test_stretch_scales_each_axis(bands):
    out = read_image(bands, (16, 16), 3, "stretch").astype(int)
    # Full height; columns 0-3 red, 4-11 green, 12-15 blue.
    assert (np.abs(out[:, :3] - RED) <= 2).all()
    assert (np.abs(out[:, 5:11] - GREEN) <= 2).all()
    assert (np.abs(out[:, 13:] - BLUE) <= 2).all()


def test_non_square_targets_and_grey(bands):
    out = read_image(bands, (10, 20), 1, "crop")
    assert out.shape == (10, 20, 1)
    grey = read_image(bands, (10, 20), 1, "stretch")[:, :4, 0]
    # Pillow's luma of pure red: 299/1000 of 255.
    assert (np.abs(grey.astype(int) - 76) <= 2).all()


def test_formats_decode_to_the_right_pixels(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = (200, 40, 10)
    img[:, 4:] = (10, 90, 220)
    for ext in ("png", "bmp", "webp"):
        kwargs = {"lossless": True} if ext == "webp" else {}
        Image.fromarray(img).save(tmp_path / f"a.{ext}", **kwargs)
        out = read_image(str(tmp_path / f"a.{ext}"), (8, 8), 3, "stretch")
        np.testing.assert_array_equal(out, img, err_msg=ext)
    # 16-bit grey: scaled to 8 bits, not clipped at 255.
    wide = np.array([[0, 257 * 128, 65535, 257 * 3]] * 4, np.uint16)
    Image.fromarray(wide).save(tmp_path / "w.png")
    assert Image.open(tmp_path / "w.png").mode.startswith("I")
    out = read_image(str(tmp_path / "w.png"), (4, 4), 1, "stretch")
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255, 3])
    # GIF: the first frame only.
    first, second = Image.fromarray(img), Image.fromarray(255 - img)
    first.save(tmp_path / "g.gif", save_all=True, append_images=[second])
    out = read_image(str(tmp_path / "g.gif"), (8, 8), 3, "stretch")
    assert abs(int(out[0, 0, 0]) - 200) < 30  # palette rounding
    # CMYK JPEG to RGB.
    cmyk = Image.fromarray(img).convert("CMYK")
    cmyk.save(tmp_path / "c.jpg", quality=95)
    out = read_image(str(tmp_path / "c.jpg"), (8, 8), 3, "stretch")
    assert np.abs(out[2:6, 1].astype(int) - (200, 40, 10)).max() < 30


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((10, 20, 3), np.uint8)  # landscape, stored sideways
    img[:, :10] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(img).save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = read_image(str(tmp_path / "r.jpg"), (20, 10), 3, "stretch")
    # Displayed upright it is portrait: the white half is on top.
    assert out[:8].mean() > 200 and out[12:].mean() < 50


def test_unreadable_files_raise_one_clear_error(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"nope")
    with pytest.raises(UnreadableImage, match="x.jpg"):
        read_image(str(tmp_path / "x.jpg"), (8, 8))


def test_recursive_listing_skips_hidden_and_other_files(tmp_path):
    names = make_photo_folder(str(tmp_path), n=9)
    (tmp_path / ".hidden").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / ".hidden" / "a.png")
    Image.new("RGB", (4, 4)).save(tmp_path / ".dot.png")
    found = find_images(str(tmp_path))
    assert found == sorted(names + list(BROKEN))
    assert "sub/deeper/img0002_webp.webp" in found


def test_folder_skips_and_lists_unreadable_files(tmp_path, capsys):
    names = make_photo_folder(str(tmp_path), n=40)
    data = load_data(f"folder:{tmp_path}", image_shape=(24, 32, 3),
                     verbose=2)
    assert data.image_shape == (24, 32, 3)
    assert len(data.train) + len(data.validation) + len(data.test) == 40
    assert sorted(name for name, _ in data.skipped) == sorted(BROKEN)
    assert all(why for _, why in data.skipped)
    out = capsys.readouterr().out
    assert "3 of 43 image files cannot be read" in out and "broken.jpg" in out
    # The split is fixed by the file list: the same seed, the same split.
    plan = plan_folder(str(tmp_path), seed=0)
    assert len(plan["validation"]) == len(plan["test"]) == 4
    assert set(sum(plan.values(), [])) == set(names) | set(BROKEN)


def test_strict_refuses_a_folder_with_unreadable_files(tmp_path):
    make_photo_folder(str(tmp_path), n=12)
    with pytest.raises(DataError, match="--strict.*broken.jpg|broken.jpg"):
        load_data(f"folder:{tmp_path}", strict=True)


def test_fits_and_channels_reach_the_images(tmp_path):
    make_photo_folder(str(tmp_path), n=16)
    grey = load_folder(str(tmp_path), (16, 16, 1), fit="pad")
    assert grey.image_shape == (16, 16, 1)
    with pytest.raises(ValueError, match="Unknown image fit 'zoom'"):
        load_folder(str(tmp_path), (16, 16, 3), fit="zoom")
    with pytest.raises(ValueError, match="channels=4"):
        load_folder(str(tmp_path), (16, 16, 4))


def test_too_few_images_and_missing_folder(tmp_path):
    from vae_tf.data import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="not found"):
        load_data(f"folder:{tmp_path / 'nope'}")
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    with pytest.raises(DataError, match="at least 3 images"):
        load_data(f"folder:{tmp_path}")
