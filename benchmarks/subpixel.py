"""Transposed convolution vs its sub-pixel and phase forms, layer by layer.

For each `Conv2DTranspose(4, strides=2, "same")` of the default faces
decoder (input side, channels in -> out): one oneDNN transposed
convolution (`conv2d_transpose`) vs the 3x3 convolution to 4x the
channels + `depth_to_space(2)` that `SubPixelConv2DTranspose` computes
(`vae_tf.layers.subpixel`; 2.25x the multiply-adds) vs the phase form
(each of the 4 output phases uses 2x2 of the 4x4 taps: one 2x2
convolution of the padded input to 4x the channels, each phase's window
sliced out, `depth_to_space(2)`; the transposed convolution's own
multiply-adds), same weights, at batch 1 and 256, float32 and bfloat16,
one intra-op thread (as serving/platform_config.txt runs a request).
Prints the median ms of each, the faster of two interleaved passes, and
the phase form's largest difference from the transposed convolution.
`vae_tf.export.serving_graph` swaps only the layers a form wins.

    python benchmarks/subpixel.py
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae_tf.layers.subpixel import subpixel_weights  # noqa: E402

LAYERS = ((4, 64, 64), (8, 64, 64), (16, 64, 32), (32, 32, 3))
# Output phase a (row or column parity) reads input offsets (-1, 0) for
# a = 0 and (0, +1) for a = 1 through these taps of the 4-tap kernel.
PHASE_TAPS = ((3, 1), (2, 0))


def phase_weights(kernel: np.ndarray) -> np.ndarray:
    """A `conv2d_transpose` filter (4, 4, out, in) as the phase form's
    2x2 filter (2, 2, in, 4 * out), phases in depth_to_space order."""
    _, _, cout, cin = kernel.shape
    w = np.zeros((2, 2, cin, 4 * cout), kernel.dtype)
    for a in range(2):
        for b in range(2):
            p = a * 2 + b
            for u in range(2):
                for v in range(2):
                    w[u, v, :, p * cout:(p + 1) * cout] = kernel[
                        PHASE_TAPS[a][u], PHASE_TAPS[b][v]].T
    return w


def phase(x, w, cout: int):
    """The phase form of a stride-2 "same" transposed convolution."""
    side = x.shape[1]
    y = tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), w, 1,
                     "VALID")
    parts = [y[:, a:a + side, b:b + side,
               (a * 2 + b) * cout:(a * 2 + b + 1) * cout]
             for a in range(2) for b in range(2)]
    return tf.nn.depth_to_space(tf.concat(parts, -1), 2)


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
          "phase ms | sub-pixel / transposed | phase / transposed | "
          "phase max abs diff |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for side, cin, cout in LAYERS:
        kernel = (rng.normal(size=(4, 4, cout, cin)) * 0.05).astype(
            np.float32)
        k3, _ = subpixel_weights(kernel, np.zeros(cout, np.float32))
        k2 = phase_weights(kernel)
        for batch, calls in ((1, 300), (256, 8)):
            for dtype in (tf.float32, tf.bfloat16):
                x = tf.cast(rng.normal(size=(batch, side, side, cin)), dtype)
                wt, w3, w2 = (tf.cast(k, dtype) for k in (kernel, k3, k2))
                shape = [batch, 2 * side, 2 * side, cout]
                paths = {
                    "transposed": tf.function(
                        lambda x: tf.nn.conv2d_transpose(x, wt, shape, 2,
                                                         "SAME")),
                    "subpixel": tf.function(
                        lambda x: tf.nn.depth_to_space(
                            tf.nn.conv2d(x, w3, 1, "SAME"), 2)),
                    "phase": tf.function(lambda x: phase(x, w2, cout)),
                }
                diff = float(tf.reduce_max(tf.abs(tf.cast(
                    paths["phase"](x) - paths["transposed"](x),
                    tf.float32))))
                best = {name: min(_median_ms(fn, x, calls)
                                  for _ in range(2))
                        for name, fn in paths.items()}
                print(f"| {side}x{side}x{cin} -> {cout} | {batch} | "
                      f"{dtype.name} | {best['transposed']:.3f} | "
                      f"{best['subpixel']:.3f} | {best['phase']:.3f} | "
                      f"{best['subpixel'] / best['transposed']:.2f} | "
                      f"{best['phase'] / best['transposed']:.2f} | "
                      f"{diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
