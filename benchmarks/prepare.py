"""`vae-tf prepare folder:` at two folder sizes: peak RSS and files/s.

Writes a folder of N "photos" (procedural faces drawn at 96 px, cut to
random sizes and aspect ratios, saved as JPEG/PNG/WebP in nested
sub-folders, in chunks so the generator itself stays small), then times
`vae-tf prepare` on it in a fresh process and reads that process's peak
resident set size (`getrusage(RUSAGE_CHILDREN).ru_maxrss`).

    python benchmarks/prepare.py --sizes 10000,100000 --work /tmp/prep

Run by hand; the two sizes are measured in one run, one after the other.
Peak RSS that does not grow with the folder is what streaming promises;
files/s includes decoding, fitting (centre crop to 64x64) and writing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

FORMATS = (("jpg", {"quality": 90}), ("png", {}), ("webp", {"quality": 85}))


def write_folder(root: str, n: int, seed: int = 0, chunk: int = 2000,
                 size: int = 96) -> None:
    """`n` photos under `root`, 100 per sub-folder: faces drawn at `size`
    px, cut to 5/8-1 of it on each side at random."""
    from PIL import Image

    from vae_tf.data.faces import make_faces

    rng = np.random.default_rng(seed)
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        faces, _ = make_faces(count, seed=seed + start, image_size=size)
        for i, face in enumerate(faces):
            k = start + i
            h, w = (int(v) for v in rng.integers(size * 5 // 8, size + 1, 2))
            top = rng.integers(0, size + 1 - h)
            left = rng.integers(0, size + 1 - w)
            ext, kwargs = FORMATS[k % len(FORMATS)]
            folder = os.path.join(root, f"{k // 100:05d}")
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(face[top:top + h, left:left + w]).save(
                os.path.join(folder, f"{k:07d}.{ext}"), **kwargs)
        print(f"  wrote {start + count:,}/{n:,} files", flush=True)


def measure(root: str, out: str) -> tuple[float, int]:
    """(seconds, peak RSS in MiB) of `vae-tf prepare` in a new process."""
    code = ("import resource, subprocess, sys; "
            "r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
            "sys.exit(r.returncode)")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "vae_tf",
         "prepare", f"folder:{root}", "--out", out],
        capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return seconds, int(done.stdout.split()[-1]) // 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--work", default="/tmp/vae_tf_prepare_bench")
    p.add_argument("--write-only", metavar="DIR", default=None,
                   help="only write a folder of --sizes photos to DIR "
                        "(drawn at --draw-size px) and stop")
    p.add_argument("--draw-size", type=int, default=96)
    args = p.parse_args()
    if args.write_only:
        write_folder(args.write_only, int(args.sizes), size=args.draw_size)
        return
    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        root = os.path.join(args.work, f"photos{n}")
        if not os.path.isdir(root):
            print(f"writing {n:,} photos to {root}", flush=True)
            write_folder(root, n)
        out = os.path.join(args.work, f"shards{n}")
        shutil.rmtree(out, ignore_errors=True)
        seconds, peak = measure(root, out)
        size = sum(os.path.getsize(os.path.join(out, f))
                   for f in os.listdir(out)) / 2**20
        rows.append((n, seconds, peak, size))
        print(f"{n:>9,} files: {seconds:7.1f} s, {n / seconds:7.0f} files/s, "
              f"peak RSS {peak} MiB, shards {size:.0f} MiB", flush=True)
    print("\n| files | time (s) | files/s | peak RSS (MiB) | shards (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for n, seconds, peak, size in rows:
        print(f"| {n:,} | {seconds:.1f} | {n / seconds:.0f} | {peak} | "
              f"{size:.0f} |")
    print(f"\nthis process's own peak: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
