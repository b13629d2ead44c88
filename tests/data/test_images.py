import gzip
import os

import numpy as np
import pytest
import tensorflow as tf

from vae_tf.data import (
    DataError, DataNotFoundError, load_data, make_dataset,
    make_training_dataset,
)
from vae_tf.data.images import read_idx


def _write_idx(path, array, gz=True):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(data)


def _fake_fashion_mnist(folder, n_train=5010, n_test=20):
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"),
                   rng.integers(0, 256, (n, 28, 28)))
        _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"),
                   rng.integers(0, 10, (n,)))


def test_fashion_mnist_from_data_dir(tmp_path):
    _fake_fashion_mnist(tmp_path)
    data = load_data("fashion_mnist", data_dir=str(tmp_path))
    assert data.image_shape == (28, 28, 1)
    assert (len(data.train), len(data.validation), len(data.test)) == (
        10, 5000, 20)
    assert data.test.attributes["label"].shape == (20,)


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/datasets/fashion-mnist"),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_real_fashion_mnist_from_debian_package(tmp_path):
    data = load_data("fashion_mnist", data_dir=str(tmp_path / "empty"))
    assert (len(data.train), len(data.validation), len(data.test)) == (
        55000, 5000, 10000)
    assert data.train.images.dtype == np.uint8


def test_missing_fashion_mnist_names_every_place(tmp_path, monkeypatch):
    import vae_tf.data.images as images
    monkeypatch.setattr(
        images, "fashion_mnist_search_path",
        lambda data_dir=None: [str(tmp_path / "a"), str(tmp_path / "b")],
    )
    with pytest.raises(DataNotFoundError) as err:
        load_data("fashion_mnist")
    message = str(err.value)
    assert str(tmp_path / "a") in message and str(tmp_path / "b") in message
    assert "dataset-fashion-mnist" in message


def test_default_search_path_order(tmp_path):
    from vae_tf.data.images import fashion_mnist_search_path
    places = fashion_mnist_search_path(str(tmp_path))
    assert places[0] == str(tmp_path)
    assert places[1].endswith(".keras/datasets/fashion-mnist")
    assert places[2] == "/usr/share/datasets/fashion-mnist"


def test_corrupt_idx_files(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3
                     + b"\x01" * 7)
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(str(path))
    path.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(str(path))


def test_folder_with_celeba_attributes(tmp_path):
    rng = np.random.default_rng(0)
    names = []
    for i in range(12):
        name = f"{i:06d}.png" if i % 2 else f"{i:06d}.jpg"
        img = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
        encode = tf.io.encode_png if name.endswith("png") else tf.io.encode_jpeg
        (tmp_path / name).write_bytes(encode(img).numpy())
        names.append(name)
    lines = [str(len(names)), "Smiling Eyeglasses"]
    lines += [f"{n} {1 if i % 3 == 0 else -1} {-1 if i % 2 else 1}"
              for i, n in enumerate(names)]
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    data = load_data(f"folder:{tmp_path}", image_shape=(32, 32, 3))
    assert data.image_shape == (32, 32, 3)
    total = len(data.train) + len(data.validation) + len(data.test)
    assert total == 12
    split = data.train
    assert set(split.attributes) == {"Smiling", "Eyeglasses"}
    assert set(np.unique(split.attributes["Smiling"])) <= {0, 1}


def test_npz_splits_and_errors(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (50, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, label=np.arange(50))
    data = load_data(f"npz:{tmp_path / 'd.npz'}")
    assert data.image_shape == (8, 8, 1)
    assert len(data.train) + len(data.validation) + len(data.test) == 50
    assert "label" in data.train.attributes
    np.savez(tmp_path / "nox.npz", y=np.arange(3))
    with pytest.raises(DataError, match="no image array"):
        load_data(f"npz:{tmp_path / 'nox.npz'}")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="Cannot read npz"):
        load_data(f"npz:{tmp_path / 'bad.npz'}")
    with pytest.raises(DataNotFoundError):
        load_data(f"npz:{tmp_path / 'missing.npz'}")


def test_unknown_data_name():
    with pytest.raises(DataError, match="Unknown data set 'mnist'"):
        load_data("mnist")


def test_pipeline_scales_batches_and_binarizes():
    x = np.full((10, 4, 4, 1), 128, np.uint8)
    batches = list(make_dataset(x, batch_size=4))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_allclose(batches[0][0], 128 / 255, rtol=1e-6)
    binary = make_dataset(x, batch_size=10, binarize=True, seed=1)
    first = next(iter(binary))[0].numpy()
    assert set(np.unique(first)) == {0.0, 1.0}
    assert 0.3 < first.mean() < 0.7
    second = next(iter(binary))[0].numpy()
    assert not np.array_equal(first, second)  # new draw each epoch


def test_training_dataset_reshuffles_each_epoch_and_replays_on_resume():
    """Bug: a resumed run restarting the shuffle (or the binarization
    draws) at epoch 0's instead of the epoch it resumes."""
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * 20

    def epochs(first, binarize=False):
        ds = make_training_dataset(x, batch_size=4, epochs=3,
                                   first_epoch=first, binarize=binarize,
                                   seed=7)
        flat = np.concatenate([b[0].numpy().ravel() for b in ds])
        return flat.reshape(3 - first, 10)
    full = epochs(0)
    assert len(make_training_dataset(x, 4, epochs=3)) == 9  # 3 x 3 batches
    for e in full:  # every image once per epoch
        np.testing.assert_allclose(np.sort(e), np.sort(x.ravel() / 255.0))
    assert not np.array_equal(full[0], full[1])
    assert not np.array_equal(full[1], full[2])
    np.testing.assert_array_equal(epochs(2)[0], full[2])
    draws = epochs(0, binarize=True)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert not np.array_equal(draws[1], draws[2])
    np.testing.assert_array_equal(epochs(1, binarize=True), draws[1:])


def test_flip_mirrors_about_half_and_replays_on_resume():
    from vae_tf.data import make_training_dataset

    # Every image white in its left column: a flipped one is white right.
    x = np.zeros((64, 4, 4, 1), np.uint8)
    x[:, :, 0] = 255

    def mirrored(ds):
        return np.concatenate([b.numpy()[:, 0, 3, 0] > 0.5 for b, _ in ds])

    both = mirrored(make_training_dataset(x, 16, 2, flip=True, seed=3))
    second = mirrored(make_training_dataset(x, 16, 2, 1, flip=True, seed=3))
    assert 0.3 < both[:64].mean() < 0.7 and 0.3 < both[64:].mean() < 0.7
    np.testing.assert_array_equal(both[64:], second)  # resumed epoch 1
    assert not mirrored(make_training_dataset(x, 16, 1, seed=3)).any()
