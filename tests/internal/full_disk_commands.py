"""Runs vae-tf commands under a file-size limit, as a full disk would
stop them: `python full_disk_commands.py WORKDIR SCENARIO...` prints one
`RESULT {json}` line, per scenario: the limited run's exit status,
stderr lines and files left, then the same command's status with the
limit lifted ("after space is freed").

One process for every scenario (one TensorFlow start): the limit is set
(RLIMIT_FSIZE, with SIGXFSZ ignored, so a write past it fails with EFBIG
as on a full disk) around each command's `vae_tf.cli.main` and lifted
after it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys

TINY = {"input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 32, "num_examples": 256, "batch_size": 32,
        "epochs": 2, "seed": 1}

# name: (limit in bytes, command, the file it must name). The limits sit
# between the sizes of the files each command writes (tiny model: best
# model ~350 KB, backup ~950 KB, each SavedModel's variables ~300 KB).
SCENARIOS = {
    # The first write past 400 KB: the first epoch's backup.
    "train": (400_000, ["train", "--config", "{work}/tiny.json", "--out",
                        "{work}/run"], "{work}/run/backup"),
    "export": (100_000, ["export", "{work}/done", "--name", "m", "--base",
                         "{work}/models"], "{work}/models/m_encoder/1"),
    "prepare": (30_000, ["prepare", "shapes", "--out", "{work}/shards",
                         "--num-examples", "600"],
                "{work}/shards/train-00000-of-00001.tfrecord"),
    "sample": (3_000, ["sample", "{work}/done", "--out", "{work}/s.png"],
               "{work}/s.png"),
    "evaluate": (2_000, ["evaluate", "{work}/done", "--out",
                         "{work}/report.json"], "{work}/report.json"),
}


def _files(work: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, n), work)
                  for d, _, names in os.walk(work) for n in names)


def _run(argv: list[str], limit=None) -> tuple[int, list[str]]:
    from vae_tf.cli import main

    err = io.StringIO()
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (limit, resource.RLIM_INFINITY))
    try:
        with contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()):
            status = main(argv)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return status, err.getvalue().splitlines()


def main(work: str, names: list[str]) -> dict:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with open(os.path.join(work, "tiny.json"), "w") as f:
        json.dump(TINY, f)
    results = {}
    if set(names) - {"train", "prepare"}:  # a finished run to read
        status, err = _run(["train", "--config", f"{work}/tiny.json",
                            "--out", f"{work}/done"])
        assert status == 0, err
        if "evaluate" in names:  # its probe cached first: the report fails
            assert _run(["evaluate", f"{work}/done", "--out",
                         f"{work}/warm.json"])[0] == 0
    for name in names:
        limit, argv, names_path = SCENARIOS[name]
        argv = [a.format(work=work) for a in argv]
        status, err = _run(argv, limit)
        results[name] = {
            "status": status, "stderr": err,
            "names": names_path.format(work=work), "files": _files(work),
            "rerun": _run(argv)[0], "files_after": _files(work)}
    return results


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(sys.argv[1], sys.argv[2:])))
