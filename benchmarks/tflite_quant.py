"""Quantized TFLite decoders vs the float one: latency, size and quality.

For an exported decoder (default: the shipped faces preset's), converts
`serving_default` three ways - float32, dynamic-range (int8 weights,
float activations) and full integer (int8 weights and activations,
calibrated on 500 latent codes drawn from the run's sampler; float32
input and output) - and reports, side by side in one run (16x8
quantization, int16 activations, does not convert this decoder: "not yet
supported for op: 'DEPTH_TO_SPACE'", its sub-pixel upsampling):

- size of the flatbuffer;
- p50 latency at batch 1 and images/s at batch 256 (LiteRT/tf.lite
  interpreter, 2 threads, best of 3 rounds);
- sample FD and reconstruction FD through the project probe on the test
  split (1,000 images; samples from the same sampler draws for every
  model), with the change against float32.

The issue's rule: keep a quantized option only if both FDs change by
<= 5%.

    python benchmarks/tflite_quant.py [--run saved_models/faces]
        [--decoder saved_models/faces_decoder]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import tensorflow as tf  # noqa: E402

from vae_tf.evaluation.metrics.frechet import frechet_distance  # noqa: E402
from vae_tf.evaluation.probe import probe_for  # noqa: E402
from vae_tf.export.archives import SERVING_DEFAULT  # noqa: E402
from vae_tf.export.layout import resolve_version_dir  # noqa: E402
from vae_tf.runs import Run  # noqa: E402


def convert(saved_model: str, mode: str, codes: np.ndarray) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model, signature_keys=[SERVING_DEFAULT])
    if mode in ("dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        def representative():
            for i in range(0, len(codes), 10):
                yield {"z": codes[i:i + 10].astype(np.float32)}

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


class Decoder:
    """A converted decoder on the interpreter, for any batch size."""

    def __init__(self, model: bytes):
        self.interpreter = tf.lite.Interpreter(model_content=model,
                                               num_threads=2)
        self.runner = self.interpreter.get_signature_runner(SERVING_DEFAULT)

    def __call__(self, z: np.ndarray, batch: int = 256) -> np.ndarray:
        out = [self.runner(z=z[i:i + batch].astype(np.float32))["image"]
               for i in range(0, len(z), batch)]
        return np.concatenate(out)


def latency(decoder: Decoder, latent: int, rounds: int = 3) -> dict:
    rng = np.random.default_rng(0)
    one = rng.normal(size=(1, latent)).astype(np.float32)
    big = rng.normal(size=(256, latent)).astype(np.float32)
    decoder(one), decoder(big)  # warm up both shapes
    p50, rate = np.inf, 0.0
    for _ in range(rounds):
        times = []
        for _ in range(200):
            start = time.perf_counter()
            decoder(one)
            times.append(time.perf_counter() - start)
        p50 = min(p50, float(np.median(times)) * 1e3)
        start = time.perf_counter()
        for _ in range(5):
            decoder(big)
        rate = max(rate, 5 * 256 / (time.perf_counter() - start))
    return {"p50_ms": p50, "img_s_256": rate}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="saved_models/faces")
    p.add_argument("--decoder", default="saved_models/faces_decoder")
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--calibration", type=int, default=500,
                   help="sampler draws the int8 model is calibrated on")
    p.add_argument("--train-codes", type=int, default=0,
                   help="also calibrate on the z_mean of this many "
                        "training images (what reconstructions decode)")
    p.add_argument("--modes", default="float32,dynamic,int8")
    args = p.parse_args()
    run = Run(args.run)
    saved = resolve_version_dir(args.decoder)
    data = run.data
    real = run.split_images("test")[:args.images]
    probe = probe_for(data, seed=run.config.seed, verbose=False)
    f_real = probe.features(real)
    z_mean = run.models.encoder.predict(real, verbose=0)[0]
    sampler = run.sampler()
    draws = sampler.sample(args.images, seed=0)
    calibration = sampler.sample(args.calibration, seed=1)
    if args.train_codes:
        train = run.split_images("train")[:args.train_codes]
        calibration = np.concatenate(
            [calibration, run.models.encoder.predict(train, verbose=0)[0]])
    rows = {}
    for mode in args.modes.split(","):
        model = convert(saved, mode, calibration)
        decoder = Decoder(model)
        rows[mode] = {
            "kib": len(model) / 1024,
            "fd_samples": frechet_distance(
                f_real, probe.features(decoder(draws))),
            "fd_reconstructions": frechet_distance(
                f_real, probe.features(decoder(z_mean))),
            **latency(decoder, run.config.latent_dim),
        }
        print(f"{mode}: {rows[mode]}", flush=True)
    base = rows["float32"]
    print(f"\n{args.decoder} ({saved}), {args.images} test images, "
          f"{os.cpu_count()} cores, TensorFlow {tf.__version__}; int8 "
          f"calibrated on {len(calibration)} codes ({args.calibration} "
          f"sampler draws, {args.train_codes} training z_mean)\n")
    print("| decoder | size (KiB) | p50 ms @1 | img/s @256 | sample FD | "
          "change | recon FD | change |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, r in rows.items():
        ds = 100 * (r["fd_samples"] / base["fd_samples"] - 1)
        dr = 100 * (r["fd_reconstructions"] / base["fd_reconstructions"] - 1)
        print(f"| {mode} | {r['kib']:.0f} | {r['p50_ms']:.3f} | "
              f"{r['img_s_256']:.0f} | {r['fd_samples']:.3f} | {ds:+.1f}% "
              f"| {r['fd_reconstructions']:.3f} | {dr:+.1f}% |")


if __name__ == "__main__":
    main()
