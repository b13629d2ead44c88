"""`vae-tf prepare folder:` streams: the same shards as the in-memory
writer, resumable after an interruption, memory flat in the folder's
size."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from photo_folder import BROKEN, make_photo_folder
from vae_tf.data import DataError, load_data
from vae_tf.data import prepare as prepare_module
from vae_tf.data.prepare import STATE, prepare_folder
from vae_tf.data.shards import write_shards


def _shards(folder):
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))
            if n.endswith(".tfrecord")}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    names = make_photo_folder(str(root), n=70) + list(BROKEN)
    rows = [f"{n} {1 if i % 3 else -1}" for i, n in enumerate(names)]
    (root / "list_attr_celeba.txt").write_text(
        "\n".join([str(len(names)), "Smiling", *rows]) + "\n")
    return root


def test_streamed_shards_equal_the_in_memory_writer(photos, tmp_path):
    data = load_data(f"folder:{photos}", image_shape=(24, 32, 3),
                     fit="pad", seed=3)
    write_shards(data, str(tmp_path / "memory"), images_per_shard=16,
                 verbose=False)
    manifest = prepare_folder(str(photos), str(tmp_path / "stream"),
                              (24, 32, 3), "pad", seed=3,
                              images_per_shard=16, verbose=0, chunk=7)
    memory, stream = _shards(tmp_path / "memory"), _shards(tmp_path / "stream")
    assert list(stream) == list(memory)  # names, -of-COUNT included
    assert len(stream) == 4 + 1 + 1
    for name in memory:
        assert stream[name] == memory[name], name
    written = json.loads((tmp_path / "memory" / "manifest.json").read_text())
    assert manifest["splits"] == written["splits"]
    assert manifest["splits"]["train"]["attributes"] == ["Smiling"]
    assert manifest["skipped"] == len(BROKEN)
    report = (tmp_path / "stream" / "skipped_images.txt").read_text()
    assert sorted(line.split("\t")[0] for line in report.splitlines()) == \
        sorted(BROKEN)
    assert not (tmp_path / "stream" / STATE).exists()


def test_an_interrupted_prepare_resumes_where_it_stopped(photos, tmp_path,
                                                         monkeypatch):
    whole = tmp_path / "whole"
    prepare_folder(str(photos), str(whole), (16, 16, 3), images_per_shard=8,
                   verbose=0, chunk=5)
    published = []
    real = prepare_module._SplitWriter._publish

    def crash_on_third(self, *args):
        if len(published) == 2:
            raise KeyboardInterrupt  # Ctrl-C (or a kill) mid-shard
        published.append(self.part["shards"])
        real(self, *args)

    out = tmp_path / "out"
    monkeypatch.setattr(prepare_module._SplitWriter, "_publish",
                        crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        prepare_folder(str(photos), str(out), (16, 16, 3),
                       images_per_shard=8, verbose=0, chunk=5)
    assert (out / STATE).exists() and not (out / "manifest.json").exists()
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
    # Other settings are refused, not mixed into the unfinished shards.
    with pytest.raises(DataError, match="images_per_shard differ"):
        prepare_folder(str(photos), str(out), (16, 16, 3),
                       images_per_shard=9, verbose=0)
    monkeypatch.setattr(prepare_module._SplitWriter, "_publish", real)
    rewritten = []
    monkeypatch.setattr(
        prepare_module._SplitWriter, "_publish",
        lambda self, *a: (rewritten.append(self.part["shards"]),
                          real(self, *a)))
    prepare_folder(str(photos), str(out), (16, 16, 3), images_per_shard=8,
                   verbose=0, chunk=5)
    # Train shards 0 and 1 were kept, not rewritten.
    assert len(rewritten) == len(_shards(whole)) - 2
    assert _shards(out) == _shards(whole)
    with pytest.raises(FileExistsError, match="already holds shards"):
        prepare_folder(str(photos), str(out), (16, 16, 3), verbose=0)


def test_strict_stops_at_the_first_unreadable_file(photos, tmp_path):
    with pytest.raises(DataError, match="cannot be read.*--strict"):
        prepare_folder(str(photos), str(tmp_path / "s"), (16, 16, 3),
                       strict=True, verbose=0)


_PEAK = textwrap.dedent("""
    import resource, subprocess, sys
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
""")


def _prepare_peak_mib(root, out):
    """Peak RSS (MiB) of `vae-tf prepare` on `root` at 128x128 px."""
    command = [sys.executable, "-c", _PEAK, sys.executable, "-m",
               "vae_tf.cli", "prepare", f"folder:{root}", "--out", str(out),
               "--image-size", "128", "--images-per-shard", "512"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def _tiny_folder(root, n):
    """`n` 8x8 PNGs: quick to write, 48 KiB each once fitted to 128 px."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(n)
    os.makedirs(root)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), np.uint8)).save(
            os.path.join(root, f"{i:05d}.png"))


def test_prepare_memory_stays_flat_as_the_folder_grows(tmp_path):
    # 4x the images: held in memory, 3,000 more 128x128 RGB images would
    # add 141 MiB; streamed, the peak must not move by a third of that.
    _tiny_folder(tmp_path / "small", 1000)
    _tiny_folder(tmp_path / "large", 4000)
    small = _prepare_peak_mib(tmp_path / "small", tmp_path / "s1")
    large = _prepare_peak_mib(tmp_path / "large", tmp_path / "s2")
    assert large - small < 47, (small, large)
