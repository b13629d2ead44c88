"""Served float inputs must be finite (issue 32, the serving soak).

TF Serving checks a request's input names, dtypes and (through the
graph) shapes, never its values. A NaN or infinity in `z` or `image`
would run through the network, and in the optimized graph (grappler's
remapper fuses bias and ReLU into oneDNN's matmul and convolution
kernels, which map NaN to 0; measured: with `remapping` off the output
is NaN) the decoder answered a NaN code with a plausible, finite image,
a silent wrong answer. Every exported signature therefore checks
its float inputs:

- in a SavedModel (TF Serving, `tf.saved_model.load`, a TF1 session) a
  row with a NaN or infinite value fails the whole request with
  `InvalidArgumentError` naming the input and marking the bad rows ("z
  holds NaN or infinite values (its rows marked 0 below) ... [1 0 1]"),
  as a bad class value does (`condition_inputs`);
- TFLite and ONNX drop assertions, so there that row's outputs are NaN
  (`condition_inputs.mark_invalid`), the other rows unchanged.

The test is `|x| <= float32 max`, false for NaN and +-inf, from ops
(`Abs`, `LessEqual`, `All`) that TFLite and tf2onnx convert as builtins.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

FLOAT32_MAX = float(np.finfo(np.float32).max)


def finite_rows(value: tf.Tensor, name: str) -> tf.Tensor:
    """`(batch,)` bool, True where row i of `value` (float, `(batch,
    ...)`) is all finite; asserts every row is, naming input `name`."""
    within = tf.abs(value) <= FLOAT32_MAX
    axes = list(range(1, value.shape.rank))
    rows = tf.reduce_all(within, axis=axes) if axes else within
    tf.debugging.assert_equal(
        rows, tf.fill(tf.shape(rows), True),
        message=f"{name} holds NaN or infinite values (its rows marked 0 "
                f"below); every value must be a finite float32")
    return rows


def both(valid: tf.Tensor | None, rows: tf.Tensor) -> tf.Tensor:
    """The rows valid in `valid` (None: all) and in `rows`."""
    return rows if valid is None else tf.logical_and(valid, rows)
