"""FLOP counting and the CPU's float32 matmul ceiling, for the benchmarks."""

import time

import keras
import numpy as np
import tensorflow as tf


def _layers(model):
    stack, out = [model], []
    while stack:
        layer = stack.pop()
        inner = getattr(layer, "layers", None)
        if inner:
            stack.extend(inner)
        else:
            out.append(layer)
    return out


def forward_flops_per_image(model: keras.Model) -> float:
    """Multiply-adds x 2 of the Dense/Conv2D/Conv2DTranspose layers of
    `model` (nested models included) for one input image."""
    total = 0.0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, c_in = layer.input.shape
            kh, kw = layer.kernel_size
            total += 2.0 * h * w * c_in * kh * kw * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            total += 2.0 * h * w * c_out * kh * kw * c_in
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


def training_flops_per_image(model: keras.Model) -> float:
    """Forward + backward: the usual 3x the forward pass."""
    return 3.0 * forward_flops_per_image(model)


def matmul_ceiling_gflops(n: int = 4096, repeats: int = 10) -> float:
    """Attainable float32 GFLOP/s of this CPU: the best of `repeats` timed
    n x n matmuls (2 n^3 FLOPs each) through TensorFlow."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))

    @tf.function
    def mm(a, b):
        return tf.reduce_sum(tf.matmul(a, b))

    mm(a, b).numpy()  # trace and warm up
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        mm(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9
