"""The procedural data cache: the same arrays as a fresh draw, read back
instead of redrawn, and robust to damaged files, version bumps, two
writers and an unwritable folder."""

import os
import subprocess
import sys

import numpy as np
import pytest

from vae_tf import load_data
from vae_tf.data import cache, faces, shapes


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VAE_TF_DATA_CACHE", raising=False)
    return tmp_path / "cache" / "data"


def _equal(a, b):
    assert np.array_equal(a.images, b.images)
    assert sorted(a.attributes) == sorted(b.attributes)
    for k in a.attributes:
        assert a.attributes[k].dtype == b.attributes[k].dtype
        assert np.array_equal(a.attributes[k], b.attributes[k])


def test_cached_splits_equal_a_fresh_draw_and_are_read_back(
        fresh_cache, monkeypatch):
    first = load_data("faces", num_examples=40, seed=3,
                      image_shape=(32, 32, 3))
    images, attrs = faces.make_faces(40, seed=9, image_size=32)
    assert np.array_equal(first.train.images, images)  # seed * 3 + 0
    assert sorted(p.name for p in fresh_cache.iterdir()) == [
        "faces-n4-seed10-32px-v1.npz", "faces-n4-seed11-32px-v1.npz",
        "faces-n40-seed9-32px-v1.npz"]

    def no_drawing(*args, **kwargs):
        raise AssertionError("drew instead of reading the cache")

    monkeypatch.setattr(faces, "make_faces", no_drawing)
    again = load_data("faces", num_examples=40, seed=3,
                      image_shape=(32, 32, 3))
    for split in ("train", "validation", "test"):
        _equal(getattr(first, split), getattr(again, split))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_count"])
def test_a_damaged_file_is_drawn_again_and_replaced(fresh_cache, damage):
    first = load_data("shapes", num_examples=30, seed=1,
                      image_shape=(32, 32, 1))
    path = fresh_cache / "shapes-n30-seed3-32px-v1.npz"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(data[:200] + b"\x00" * (len(data) - 200))
    else:
        short = shapes.make_shapes(29, seed=3, image_size=32)
        cache.store(str(path), *short)
    assert cache.load(str(path), 30, 32) is None
    again = load_data("shapes", num_examples=30, seed=1,
                      image_shape=(32, 32, 1))
    _equal(first.train, again.train)
    assert cache.load(str(path), 30, 32) is not None  # replaced, whole


def test_a_new_generator_version_draws_anew(fresh_cache, monkeypatch):
    load_data("shapes", num_examples=20, seed=0, image_shape=(32, 32, 1))
    monkeypatch.setattr(shapes, "GENERATOR_VERSION", 2)
    load_data("shapes", num_examples=20, seed=0, image_shape=(32, 32, 1))
    names = sorted(p.name for p in fresh_cache.iterdir())
    assert "shapes-n20-seed0-32px-v1.npz" in names
    assert "shapes-n20-seed0-32px-v2.npz" in names


def test_two_processes_drawing_at_once_leave_one_whole_file(tmp_path):
    program = ("from vae_tf import load_data; d = load_data('faces', "
               "num_examples=300, seed=5, image_shape=(32, 32, 3)); "
               "print(int(d.train.images.sum()))")
    env = dict(os.environ, VAE_TF_CACHE=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, "-c", program], env=env,
                              stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    sums = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sums[0] == sums[1]
    folder = tmp_path / "cache" / "data"
    assert sorted(p.name for p in folder.iterdir()) == [
        "faces-n30-seed16-32px-v1.npz", "faces-n30-seed17-32px-v1.npz",
        "faces-n300-seed15-32px-v1.npz"]  # no temporary file left
    loaded = cache.load(str(folder / "faces-n300-seed15-32px-v1.npz"), 300,
                        32)
    assert int(loaded[0].sum()) == int(sums[0])


def test_an_unwritable_cache_or_the_switch_still_gives_the_data(
        tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VAE_TF_CACHE", str(blocker / "cache"))
    data = load_data("shapes", num_examples=10, seed=0,
                     image_shape=(32, 32, 1))
    assert data.train.images.shape == (10, 32, 32, 1)
    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "off"))
    monkeypatch.setenv("VAE_TF_DATA_CACHE", "0")
    load_data("shapes", num_examples=10, seed=0, image_shape=(32, 32, 1))
    assert not (tmp_path / "off").exists()
