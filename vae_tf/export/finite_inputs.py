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
  NaN or infinity anywhere fails the whole request with
  `InvalidArgumentError` naming the input ("z holds NaN or infinite
  values; every value must be a finite float32 : Tensor had NaN
  values"), as a bad class value does (`condition_inputs`);
- TFLite and ONNX drop the check, and there the NaN propagates: that
  row's outputs are NaN, the other rows unchanged (pinned by
  tests/export/test_export_formats.py).

One `CheckNumerics` op per input, passing the input through. Measured
side by side (`benchmarks/serve.py --session-only`, the faces decoder,
TF1 session with the platform config): p50 at batch 1 0.65 ms without,
0.63 with; batch 256 4,452 and 4,494 images/s. A first version (an
elementwise `|x| <= max` test reduced per row, the rows marked NaN in
the outputs) cost 0.64 -> 0.84 ms and 4,521 -> 3,938 images/s.
"""

from __future__ import annotations

import tensorflow as tf


def checked(value: tf.Tensor, name: str) -> tf.Tensor:
    """`value` (float, any shape), failing the request if it holds a NaN
    or an infinity, with a message naming input `name`."""
    return tf.debugging.check_numerics(
        value, f"{name} holds NaN or infinite values; every value must be "
               f"a finite float32")
