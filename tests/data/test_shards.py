import json

import numpy as np
import pytest

from vae_tf import cli, load_data
from vae_tf.data import DataError, DataNotFoundError, make_training_dataset
from vae_tf.data.shards import read_manifest, stream, write_shards


def test_shards_round_trip_and_stream_every_image_once(tmp_path):
    data = load_data("faces", num_examples=150, seed=2, image_shape=(32, 32, 3))
    write_shards(data, str(tmp_path), images_per_shard=40, verbose=False)
    manifest = read_manifest(str(tmp_path))
    assert len(manifest["splits"]["train"]["files"]) == 4  # 150 / 40
    streamed = np.stack(list(
        stream(str(tmp_path), "train", manifest).as_numpy_iterator()))
    # Shards are read interleaved: same images, each exactly once, one
    # from each of the four shards in turn (not in file order).
    written = [x.tobytes() for x in data.train.images]
    assert sorted(x.tobytes() for x in streamed) == sorted(written)
    assert [written.index(x.tobytes()) for x in streamed[:5]] == [
        0, 40, 80, 120, 1]
    # Training shuffles the stream anew every epoch: each epoch holds every
    # image once, in an order that is neither the stream's nor the last's.
    ds = make_training_dataset(stream(str(tmp_path), "train", manifest),
                               batch_size=50, epochs=2, seed=0,
                               shuffle_buffer=150)
    x = np.concatenate([b[0].numpy() for b in ds])
    epochs = [[(np.round(im * 255).astype(np.uint8)).tobytes() for im in e]
              for e in (x[:150], x[150:])]
    assert len(x) == 300
    for order in epochs:
        assert sorted(order) == sorted(written)
        assert order != [s.tobytes() for s in streamed]
    assert epochs[0] != epochs[1]
    loaded = load_data(f"shards:{tmp_path}")
    assert loaded.train.images is None and len(loaded.train) == 150
    assert loaded.image_shape == (32, 32, 3)
    np.testing.assert_array_equal(loaded.test.images, data.test.images)
    np.testing.assert_allclose(loaded.validation.attributes["smile"],
                               data.validation.attributes["smile"], rtol=1e-6)


def test_prepare_then_train_from_shards(tmp_path, capsys):
    shards = tmp_path / "shards"
    assert cli.main(["prepare", "faces", "--out", str(shards),
                     "--num-examples", "200", "--image-size", "32",
                     "--images-per-shard", "64"]) == 0
    assert "train with --data shards:" in capsys.readouterr().out
    config = tmp_path / "c.json"
    config.write_text(json.dumps({
        "widths": [8, 16], "dense_units": 16, "latent_dim": 3,
        "batch_size": 32, "epochs": 2, "data": f"shards:{shards}",
    }))
    run = tmp_path / "run"
    assert cli.main(["train", "--config", str(config), "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "7/7" in out  # ceil(200 / 32) steps streamed
    assert (run / "model.keras").is_file()
    assert json.loads((run / "config.json").read_text())["input_shape"] == [
        32, 32, 3]


def test_shard_errors(tmp_path, capsys):
    with pytest.raises(DataNotFoundError, match="manifest.json"):
        load_data(f"shards:{tmp_path}")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match="corrupt"):
        load_data(f"shards:{tmp_path}")
    data = load_data("faces", num_examples=20, seed=0, image_shape=(32, 32, 3))
    with pytest.raises(FileExistsError, match="already holds shards"):
        write_shards(data, str(tmp_path), verbose=False)


@pytest.mark.parametrize("size", [16, 64])
def test_streamed_images_of_another_size_than_the_config_are_refused(
        tmp_path, size):
    """The train split streams from disk, so the check is on the validation
    split (held in memory): a config for smaller or larger images than the
    shards hold fails before training, naming both shapes."""
    from vae_tf import VAEConfig, train

    data = load_data("faces", num_examples=40, seed=0, image_shape=(32, 32, 3))
    write_shards(data, str(tmp_path / "s"), images_per_shard=20, verbose=False)
    config = VAEConfig(data=f"shards:{tmp_path / 's'}", latent_dim=2,
                       input_shape=(size, size, 3), epochs=1)
    with pytest.raises(DataError, match="validation split: wrong image size: "
                       f"images are \\(32, 32, 3\\), the model takes "
                       f"\\({size}, {size}, 3\\)"):
        train(config, out_dir=str(tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()
