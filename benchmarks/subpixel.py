"""Transposed convolution vs its sub-pixel form, layer by layer.

For each `Conv2DTranspose(4, strides=2, "same")` of the default faces
decoder (input side, channels in -> out): one oneDNN transposed
convolution (`conv2d_transpose`) vs the 3x3 convolution to 4x the
channels + `depth_to_space(2)` that `SubPixelConv2DTranspose` computes
(`vae_tf.layers.subpixel`), same weights, at batch 1 and 256, float32 and
bfloat16, one intra-op thread (as serving/platform_config.txt runs a
request). Prints the median ms of each, the faster of two interleaved
passes. `vae_tf.export.serving_graph` swaps only the layers it wins.

    python benchmarks/subpixel.py
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae_tf.layers.subpixel import subpixel_weights  # noqa: E402

LAYERS = ((4, 64, 64), (8, 64, 64), (16, 64, 32), (32, 32, 3))


def _median_ms(fn, x, calls):
    fn(x)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main():
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rng = np.random.default_rng(0)
    print("| layer | batch | dtype | conv2d_transpose ms | sub-pixel ms | "
          "sub-pixel / transposed |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for side, cin, cout in LAYERS:
        kernel = (rng.normal(size=(4, 4, cout, cin)) * 0.05).astype(
            np.float32)
        k3, _ = subpixel_weights(kernel, np.zeros(cout, np.float32))
        for batch, calls in ((1, 300), (256, 8)):
            for dtype in (tf.float32, tf.bfloat16):
                x = tf.cast(rng.normal(size=(batch, side, side, cin)), dtype)
                wt, w3 = tf.cast(kernel, dtype), tf.cast(k3, dtype)
                shape = [batch, 2 * side, 2 * side, cout]
                paths = {
                    "transposed": tf.function(
                        lambda x: tf.nn.conv2d_transpose(x, wt, shape, 2,
                                                         "SAME")),
                    "subpixel": tf.function(
                        lambda x: tf.nn.depth_to_space(
                            tf.nn.conv2d(x, w3, 1, "SAME"), 2)),
                }
                best = {name: min(_median_ms(fn, x, calls)
                                  for _ in range(2))
                        for name, fn in paths.items()}
                print(f"| {side}x{side}x{cin} -> {cout} | {batch} | "
                      f"{dtype.name} | {best['transposed']:.3f} | "
                      f"{best['subpixel']:.3f} | "
                      f"{best['subpixel'] / best['transposed']:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
