"""Training from shards (`shards:DIR`) vs from memory: images/s and peak RSS.

1. Writes a shard set of N procedural faces (default 1,000,000, 64x64),
   generated and written in chunks of one shard (4,096 images) so the
   writer never holds the set, plus 1,000-image validation and test
   shards and the manifest `vae_tf.data.shards` reads. A second manifest
   over the first tenth of the train shards gives a 10x smaller set from
   the same files.
2. Trains the default model (`VAEConfig()`: conv 32-64-64-64, batch 32,
   the default precision) for `--steps` steps in a fresh process per
   source, one after the other: in memory (10,000 faces, the default
   data), streamed from the small shard set, streamed from the full one.
   images/s is taken over the steps after the first 100 (warm-up,
   tracing); peak RSS is that process's `ru_maxrss`.

    python benchmarks/stream.py --work /tmp/stream [--images 1000000]

Run by hand on a quiet machine: the three trainings are measured one
after the other in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

PER_SHARD = 4096


def write_set(folder: str, n: int) -> None:
    """`n` faces as shards, one generated chunk at a time."""
    import tensorflow as tf

    from vae_tf._internal import io_utils
    from vae_tf.data.faces import make_faces
    from vae_tf.data.shards import MANIFEST, example_bytes, shard_name

    os.makedirs(folder, exist_ok=True)
    manifest = {"name": "faces-stream", "image_shape": [64, 64, 3],
                "splits": {}}
    for split, count, seed in (("validation", 1000, 10**6),
                               ("test", 1000, 10**6 + 1),
                               ("train", n, 0)):
        shards = -(-count // PER_SHARD)
        files = []
        for k in range(shards):
            size = min(PER_SHARD, count - k * PER_SHARD)
            images, _ = make_faces(size, seed=seed + k)
            name = shard_name(split, k, shards)
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                with io_utils.atomic_path(path) as tmp:
                    with tf.io.TFRecordWriter(tmp) as writer:
                        for image in images:
                            writer.write(example_bytes(image, [], []))
            files.append(name)
            if k % 25 == 0:
                print(f"  {split}: shard {k + 1}/{shards}", flush=True)
        manifest["splits"][split] = {"count": count, "files": files,
                                     "attributes": []}
    io_utils.atomic_write_text(os.path.join(folder, MANIFEST),
                               json.dumps(manifest, indent=2) + "\n")


def small_view(full: str, small: str, fraction: int = 10) -> None:
    """A manifest over the first 1/`fraction` of `full`'s train shards."""
    from vae_tf.data.shards import MANIFEST

    with open(os.path.join(full, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    os.makedirs(small, exist_ok=True)
    train = manifest["splits"]["train"]
    keep = train["files"][:max(1, len(train["files"]) // fraction)]
    train.update(files=keep, count=len(keep) * PER_SHARD)
    for split in manifest["splits"].values():
        for name in split["files"]:
            link = os.path.join(small, name)
            if not os.path.exists(link):
                os.symlink(os.path.join(os.path.abspath(full), name), link)
    with open(os.path.join(small, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f)


CHILD = """
import json, os, resource, sys, time
import keras
from vae_tf import VAEConfig, build_vae, compile_vae, load_data
from vae_tf.data import make_training_dataset
data_name, steps = sys.argv[1], int(sys.argv[2])
config = VAEConfig(data=data_name)
data = load_data(data_name)
config = config.resolve(data.image_shape)
models = build_vae(config)
compile_vae(models.vae, config, steps_per_epoch=steps)
epochs = -(-steps * config.batch_size // len(data.train))
ds = make_training_dataset(data.train.source(), config.batch_size, epochs,
                           seed=0).take(steps)
marks = {}
class Clock(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch in (99, steps - 1):
            marks[batch] = time.perf_counter()
models.vae.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0,
               callbacks=[Clock()])
rate = (steps - 100) * config.batch_size / (marks[steps - 1] - marks[99])
print("RESULT", json.dumps({"img_s": rate, "precision": config.precision,
      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
      // 1024, "train_images": len(data.train)}))
"""


def train(data_name: str, steps: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, data_name, str(steps)],
        capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT")]
    return json.loads(line[-1][len("RESULT "):])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default="/tmp/vae_tf_stream_bench")
    p.add_argument("--images", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=1500)
    args = p.parse_args()
    full = os.path.join(args.work, f"shards{args.images}")
    small = os.path.join(args.work, f"shards{args.images // 10}")
    if not os.path.isfile(os.path.join(full, "manifest.json")):
        start = time.perf_counter()
        print(f"writing {args.images:,} faces to {full}", flush=True)
        write_set(full, args.images)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"  written in {time.perf_counter() - start:.0f} s, "
              f"writer's peak RSS {peak} MiB", flush=True)
    small_view(full, small)
    rows = {}
    for label, name in (("in memory (faces, 10,000)", "faces"),
                        ("shards, 1/10", f"shards:{small}"),
                        ("shards, all", f"shards:{full}")):
        rows[label] = train(name, args.steps)
        print(f"{label}: {rows[label]}", flush=True)
    base = rows["in memory (faces, 10,000)"]["img_s"]
    print(f"\ndefault model, {args.steps} steps of 32 (images/s over steps "
          f"101-{args.steps}), one fresh process each, one after the "
          "other\n")
    print("| source | training images | images/s | vs in memory | "
          "peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, r in rows.items():
        print(f"| {label} | {r['train_images']:,} | {r['img_s']:.0f} | "
              f"{100 * r['img_s'] / base:.0f}% | {r['peak_mib']} |")


if __name__ == "__main__":
    main()
