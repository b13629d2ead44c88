"""Checks that two revisions of vae_tf behave the same, bit for bit: a
refactoring (moves, renames, splits) must not change what a run writes.

    python tools/same_behaviour.py OLD_REV [NEW_REV]     # NEW: the checkout

Each revision is checked out in a temporary git worktree (the working tree
itself when NEW_REV is omitted) and runs, with only that tree's vae_tf on
the path, the same commands in a folder of its own:

    vae-tf train --likelihood bernoulli --epochs 2 --num-examples 2000
                 --out run                            (the faces data set)
    vae-tf export run --base models

Then compares: `history.csv`, `config.json`, `sampler.json` and the two
PNGs byte for byte; the trained weights (every array of `model.keras`'s
`model.weights.h5`) and its model config exactly; and both exports: the
same files, the same `vae_tf.json`, the same warmup records (as messages:
an older exporter wrote the input map in any order), and the same
reference inputs and outputs (`vae_tf_reference.npz`) and variables.
TensorBoard event files hold wall-clock times and are not compared.
Prints one line per comparison; exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = ["train", "--likelihood", "bernoulli", "--epochs", "2",
         "--num-examples", "2000", "--out", "run"]
EXPORT = ["export", "run", "--base", "models"]
RUN_FILES = ("history.csv", "config.json", "sampler.json",
             "reconstructions.png", "samples.png")
_CLI = "import sys; from vae_tf.cli import main; sys.exit(main(sys.argv[1:]))"


def _run_in(tree: str, work: str) -> None:
    """The two commands with `tree`'s vae_tf, in `work`."""
    env = dict(os.environ, PYTHONPATH=tree, TF_CPP_MIN_LOG_LEVEL="3")
    for args in (TRAIN, EXPORT):
        done = subprocess.run([sys.executable, "-c", _CLI, *args], cwd=work,
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{tree}: vae-tf {' '.join(args)} failed:\n"
                             f"{done.stderr[-3000:]}")


def _weights(path: str) -> dict[str, np.ndarray]:
    """Every array of a `.keras` archive's weights file."""
    import h5py

    out = {}
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as t:
        archive.extract("model.weights.h5", t)
        with h5py.File(os.path.join(t, "model.weights.h5"), "r") as f:
            f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                         if isinstance(obj, h5py.Dataset) else None)
    return out


def _model_config(path: str) -> dict:
    """The archive's model config without `shared_object_id`s (Python
    object ids, different in every process)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k != "shared_object_id"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    with zipfile.ZipFile(path) as archive:
        return strip(json.loads(archive.read("config.json")))


def _same_arrays(a: dict, b: dict) -> str:
    if sorted(a) != sorted(b):
        return f"different names: {sorted(set(a) ^ set(b))[:5]}"
    diff = [k for k in a if not np.array_equal(np.asarray(a[k]),
                                               np.asarray(b[k]))]
    return f"{len(diff)} of {len(a)} differ: {diff[:5]}" if diff else ""


def _files(folder: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, files in os.walk(folder) for f in files)


def _variables(folder: str) -> dict[str, np.ndarray]:
    """The SavedModel's variables by name (the checkpoint's own keys are
    positions in a tracking list whose order is not reproducible)."""
    import tensorflow as tf

    out = {}
    for variable in tf.saved_model.load(folder).variables:
        name, k = variable.name, 1
        while name in out:
            name, k = f"{variable.name}#{k}", k + 1
        out[name] = variable.numpy()
    return out


def _warmup(path: str) -> list:
    """The warmup records as messages: equal when their fields are, in
    whatever order an older exporter serialised a request's input map."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [prediction_log_pb2.PredictionLog.FromString(record.numpy())
            for record in tf.data.TFRecordDataset(path)]


def compare(old: str, new: str) -> list[tuple[str, str]]:
    """`[(what, "" if same else how it differs)]` for two work folders."""
    results = []

    def read(root, name):
        with open(os.path.join(root, name), "rb") as f:
            return f.read()

    for name in RUN_FILES:
        same = read(old, f"run/{name}") == read(new, f"run/{name}")
        results.append((f"run/{name} bytes", "" if same else "differ"))
    model = ("run/model.keras",)
    results.append(("run/model.keras weights", _same_arrays(
        _weights(os.path.join(old, *model)),
        _weights(os.path.join(new, *model)))))
    same = (_model_config(os.path.join(old, *model))
            == _model_config(os.path.join(new, *model)))
    results.append(("run/model.keras config", "" if same else "differs"))
    for part in ("vae_encoder", "vae_decoder"):
        a, b = (os.path.join(root, "models", part, "1") for root in (old, new))
        files = _files(a) == _files(b)
        results.append((f"{part} file list", "" if files else
                        f"{sorted(set(_files(a)) ^ set(_files(b)))}"))
        name = "assets.extra/vae_tf.json"
        same = read(a, name) == read(b, name)
        results.append((f"{part} {name}", "" if same else "differs"))
        name = "assets.extra/tf_serving_warmup_requests"
        same = _warmup(os.path.join(a, name)) == _warmup(os.path.join(b,
                                                                      name))
        results.append((f"{part} {name}", "" if same else "differs"))
        ref = "assets.extra/vae_tf_reference.npz"
        results.append((f"{part} {ref}", _same_arrays(
            dict(np.load(os.path.join(a, ref))),
            dict(np.load(os.path.join(b, ref))))))
        results.append((f"{part} variables", _same_arrays(
            _variables(a), _variables(b))))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="a git revision")
    parser.add_argument("new", nargs="?", default=None,
                        help="a git revision (default: the working tree)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vae_tf_same_") as tmp:
        trees = []
        for label, rev in (("old", args.old), ("new", args.new)):
            if rev is None:
                trees.append(ROOT)
                continue
            tree = os.path.join(tmp, f"tree_{label}")
            subprocess.run(["git", "-C", ROOT, "worktree", "add", "-f",
                            "--detach", tree, rev], check=True,
                           capture_output=True)
            trees.append(tree)
        works = []
        try:
            for label, tree in zip(("old", "new"), trees):
                work = os.path.join(tmp, f"work_{label}")
                os.makedirs(work)
                rev = args.old if label == "old" else args.new
                print(f"{label}: {rev or 'the working tree'}", flush=True)
                _run_in(tree, work)
                works.append(work)
            results = compare(*works)
        finally:
            for tree in trees:
                if tree != ROOT:
                    subprocess.run(["git", "-C", ROOT, "worktree", "remove",
                                    "--force", tree], capture_output=True)
    for what, how in results:
        print(f"{'same' if not how else 'DIFF'}  {what}" +
              (f": {how}" if how else ""))
    differ = [r for r in results if r[1]]
    print(f"{len(results) - len(differ)} of {len(results)} identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
