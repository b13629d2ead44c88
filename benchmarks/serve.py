"""Serving benchmark: exported SavedModels vs Keras, side by side.

For the encoder and the decoder of a run: p50/p99 latency at batch 1 and
throughput at batch 32, 256 and 1,024 for (a) the SavedModel's
`serving_default` signature loaded with `tf.saved_model.load` (what a
Python app runs), (b) Keras `model.predict` and (c) a direct Keras call
`model(x, training=False)` on the same weights; plus the fraction of the
ceiling of its precision at batch 256. Paths are measured in turn,
repeat by repeat, so machine noise hits all three alike.

Then TF Serving's path: each export in a TF1 session (`serve_session.py`,
a process per measurement) with TensorFlow's default session config and
with the `session_config` of `--platform-config` (default
serving/platform_config.txt), in turn, round by round; batch 1 with one
request in flight, larger batches with the config's `num_batch_threads`
in flight for both.

    vae-tf train --out runs/faces && vae-tf export runs/faces --base /tmp/sm
    vae-tf export runs/faces --base /tmp/sm --precision bfloat16 --name bf16
    python benchmarks/serve.py runs/faces /tmp/sm --also bf16
    python benchmarks/serve.py runs/faces /tmp/sm --name bf16 --also other \
        --session-only --parts decoder       # two exports, TF1 rows only
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from flops import ceiling_for, ceilings, forward_flops_per_image  # noqa: E402
from vae_tf.export.layout import resolve_version_dir  # noqa: E402
from vae_tf.export import read_platform_config  # noqa: E402
from vae_tf.runs import load_run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PLATFORM_CONFIG = os.path.join(os.path.dirname(HERE), "serving",
                               "platform_config.txt")


def _paths(keras_model, signature, input_name, others):
    def call(sig):
        return lambda x: sig(**{input_name: x})

    def predict(x):
        return keras_model.predict(x, verbose=0, batch_size=len(x))

    def direct(x):
        return keras_model(x, training=False)

    paths = {"SavedModel signature": call(signature)}
    paths.update({f"SavedModel signature ({name})": call(sig)
                  for name, sig in others.items()})
    paths.update({"Keras predict": predict, "Keras direct call": direct})
    return paths


def _time(fn, x, repeats):
    fn(x)  # warm up / trace
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(x)
        if isinstance(result, dict):
            result = next(iter(result.values()))
        np.asarray(result if not isinstance(result, list) else result[0])
        out.append(time.perf_counter() - start)
    return np.array(out)


def bench(name, keras_model, signature, input_name, example, flops, ceiling,
          repeats, others=None, precisions=None):
    """`ceiling`: GFLOP/s of float32 paths; `precisions` maps a path to
    the ceiling of its own precision instead."""
    paths = _paths(keras_model, signature, input_name, others or {})
    rows = {p: {} for p in paths}
    for batch, reps in ((1, repeats * 10), (32, repeats), (256, repeats),
                        (1024, max(3, repeats // 4))):
        x = tf.constant(np.repeat(example[:1], batch, axis=0))
        samples = {p: [] for p in paths}
        for _ in range(reps):  # interleave the three paths
            for p, fn in paths.items():
                samples[p].append(_time(fn, x, 1)[0])
        for p in paths:
            t = np.array(samples[p])
            if batch == 1:
                rows[p]["p50"] = np.percentile(t, 50) * 1e3
                rows[p]["p99"] = np.percentile(t, 99) * 1e3
            else:
                rows[p][batch] = batch / np.median(t)
    print(f"\n{name} ({flops / 1e6:.1f} MFLOP/image forward)\n")
    print("| path | p50 ms @1 | p99 ms @1 | img/s @32 | img/s @256 | "
          "img/s @1024 | % of its ceiling @256 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p, r in rows.items():
        own = (precisions or {}).get(p, ceiling)
        frac = r[256] * flops / (own * 1e9) * 100
        print(f"| {p} | {r['p50']:.2f} | {r['p99']:.2f} | {r[32]:.0f} | "
              f"{r[256]:.0f} | {r[1024]:.0f} | {frac:.1f}% |")
    saved, direct = rows["SavedModel signature"], rows["Keras direct call"]
    print(f"\nSavedModel / direct Keras call: latency p50 "
          f"{saved['p50'] / direct['p50']:.2f}x, throughput @256 "
          f"{saved[256] / direct[256]:.2f}x")


def _session_worker(version_dir, config_hex, in_flight):
    command = [sys.executable, os.path.join(HERE, "serve_session.py"),
               version_dir, "--in-flight", str(in_flight)]
    if config_hex:
        command += ["--config-hex", config_hex]
    done = subprocess.run(command, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines()
                 if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        sys.exit(f"serve_session.py {version_dir} failed:\n{done.stderr}")
    return json.loads(line[len("RESULT "):])


def export_precision(version_dir: str) -> str:
    """What an export computes in, from its `assets.extra/vae_tf.json`."""
    path = os.path.join(version_dir, "assets.extra", "vae_tf.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["config"]["precision"]


def bench_sessions(name, version_dirs, platform, flops, measured, rounds):
    """TF1-session rows: each export x (default, platform config)."""
    in_flight = platform.num_batch_threads()
    configs = {"default session": "",
               "platform config": platform.session_config
               .SerializeToString().hex()}
    samples = {}
    for r in range(rounds):
        for export, path in version_dirs.items():
            for label, config_hex in configs.items():
                print(f"  {name} round {r + 1}/{rounds}: {export}, "
                      f"{label}", file=sys.stderr, flush=True)
                samples.setdefault((export, label), []).append(
                    _session_worker(path, config_hex, in_flight))
    print(f"\n{name}, TF1 session (TF Serving's path; batch 1 one request "
          f"in flight, larger batches {in_flight} in flight; medians of "
          f"{rounds} rounds)\n")
    print("| export, session | precision | p50 ms @1 | p99 ms @1 | "
          "img/s @32 | img/s @256 | img/s @1024 | % of its ceiling @256 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (export, label), runs in samples.items():
        med = {k: float(np.median([run[k] for run in runs]))
               for k in ("p50", "p99", "32", "256", "1024")}
        precision = export_precision(version_dirs[export])
        frac = med["256"] * flops / (
            ceiling_for(precision, measured) * 1e9) * 100
        print(f"| {export}, {label} | {precision} | {med['p50']:.2f} | "
              f"{med['p99']:.2f} "
              f"| {med['32']:.0f} | {med['256']:.0f} | {med['1024']:.0f} "
              f"| {frac:.1f}% |")


def _python_paths(args, config, models, load, measured):
    """The in-process tables: signatures and Keras paths (Keras in float32
    here; each export against its own precision's ceiling)."""
    ceiling = ceiling_for("float32", measured)
    own = {f"SavedModel signature ({n})": ceiling_for(export_precision(
        resolve_version_dir(os.path.join(args.base, f"{n}_decoder"))),
        measured) for n in args.also}
    own["SavedModel signature"] = ceiling_for(export_precision(
        resolve_version_dir(os.path.join(args.base,
                                         f"{args.name}_decoder"))), measured)
    enc, dec = load(args.name, "encoder"), load(args.name, "decoder")
    also_enc = {n: load(n, "encoder") for n in args.also}
    also_dec = {n: load(n, "decoder") for n in args.also}
    image = np.random.default_rng(0).uniform(
        size=(1, *config.input_shape)).astype(np.float32)
    z = np.zeros((1, config.latent_dim), np.float32)
    # The deterministic encoder path: image -> (z_mean, z_log_var).
    from vae_tf.models import moments_encoder
    mean_encoder = moments_encoder(models.encoder)
    bench("Encoder", mean_encoder, enc, "image", image,
          forward_flops_per_image(models.encoder), ceiling, args.repeats,
          also_enc, own)
    bench("Decoder", models.decoder, dec, "z", z,
          forward_flops_per_image(models.decoder), ceiling, args.repeats,
          also_dec, own)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("base", help="export base with NAME_encoder/_decoder")
    parser.add_argument("--name", default="vae")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--also", action="append", default=[],
                        metavar="NAME", help="also time the signatures of "
                        "the export NAME in BASE (e.g. one written with "
                        "vae-tf export --precision bfloat16 --name NAME)")
    parser.add_argument("--platform-config", default=PLATFORM_CONFIG,
                        help="TF Serving platform config whose session "
                        "config the TF1-session rows use (default "
                        "serving/platform_config.txt); 'none' skips them")
    parser.add_argument("--session-rounds", type=int, default=3,
                        help="rounds of the TF1-session rows (default 3)")
    parser.add_argument("--session-only", action="store_true",
                        help="only the TF1-session rows")
    parser.add_argument("--parts", default="encoder,decoder",
                        help="TF1-session rows of these models (default "
                        "encoder,decoder)")
    args = parser.parse_args(argv)
    platform = None
    if args.platform_config != "none":
        platform = read_platform_config(args.platform_config)

    config, models = load_run(args.run_dir)

    def load(name, part):
        return tf.saved_model.load(resolve_version_dir(
            os.path.join(args.base, f"{name}_{part}"))).signatures[
                "serving_default"]

    measured = ceilings()
    print(f"Machine: {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}; "
          "ceilings (best of matmul and conv) " + ", ".join(
              f"{p} {ceiling_for(p, measured):.1f} GFLOP/s"
              for p in ("float32", "bfloat16")) + "; model "
          f"{config.input_shape} latent {config.latent_dim}")
    if not args.session_only:
        _python_paths(args, config, models, load, measured)
    if platform is None:
        return
    print(f"\nPlatform config {args.platform_config}: "
          f"{platform.describe()}")
    for part, model in (("encoder", models.encoder),
                        ("decoder", models.decoder)):
        if part not in args.parts.split(","):
            continue
        dirs = {n: resolve_version_dir(os.path.join(args.base, f"{n}_{part}"))
                for n in [args.name, *args.also]}
        bench_sessions(part.capitalize(), dirs, platform,
                       forward_flops_per_image(model), measured,
                       args.session_rounds)


if __name__ == "__main__":
    main()
