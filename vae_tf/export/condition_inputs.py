"""A conditional model's factors as served inputs (issue 29).

An exported conditional encoder or decoder takes, beside `image` / `z` /
`seed`, one named input per conditioned factor, in the factor's own
values, not the model's encoding, so an app needs no vae_tf to build a
request:

- a class factor (glasses, beard, hair_color, ...): float32 `(batch,)`,
  one of the class values recorded in `vae_tf.json`
  (`config.condition_specs[i].values`; `value_names` name them, e.g. hair
  colours 0 black ... 3 red), one-hot encoded inside the graph;
- a continuous factor (smile, skin_tone, ...): float32 `(batch,)`, in
  the data's units (standardised inside the graph with the training
  split's mean and standard deviation).

One dtype for every factor: a JSON `1` or `1.0` is valid for either
kind, and a client needs no per-factor dtype table.

Every input has the batch as dimension 0 (TF Serving's batching refuses
rank-0 inputs and needs equal row counts across a request's inputs), so
`sample`'s factors come one value per seed; the clients repeat a single
value over every draw.

A row with a class value that is not one of the factor's values, or a
continuous value that is NaN or infinite (`finite_inputs`), fails the
request in a SavedModel (an assertion naming the factor). TFLite and
ONNX drop assertions, so such a row's outputs are also NaN there: never
a silent decode of an all-zero one-hot.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from vae_tf.export import finite_inputs


def input_specs(specs: Sequence) -> list[tf.TensorSpec]:
    """The served inputs of `ConditionSpec`s `specs`, in their order."""
    return [tf.TensorSpec((None,), tf.float32, s.name) for s in specs]


def encode(specs: Sequence, values: Sequence[tf.Tensor], rows: tf.Tensor):
    """`({factor: encoded (n, width) float32}, valid (n,) bool)` of the
    raw `values` (one tensor per spec); asserts each has `rows` rows,
    every class value is known and every continuous value finite."""
    encoded, valid = {}, tf.fill([rows], True)
    for spec, value in zip(specs, values):
        tf.debugging.assert_equal(
            tf.shape(value)[0], rows,
            message=f"{spec.name} takes one value per row of the request")
        if spec.kind == "continuous":
            value = finite_inputs.checked(value, spec.name)
            code = (value - spec.mean) / spec.std
            encoded[spec.name] = code[:, None]
            continue
        known = tf.constant([float(v) for v in spec.values], tf.float32)
        one_hot = tf.cast(tf.equal(value[:, None], known[None, :]),
                          tf.float32)
        found = tf.reduce_sum(one_hot, axis=1) > 0
        tf.debugging.assert_equal(
            found, tf.fill([rows], True),
            message=f"{spec.name} takes one of the values "
                    f"{[int(v) for v in spec.values]}")
        encoded[spec.name] = one_hot
        valid = tf.logical_and(valid, found)
    return encoded, valid


def mark_invalid(output: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    """`output` with the rows of invalid conditions set to NaN."""
    shape = tf.concat([tf.shape(valid), tf.ones([tf.rank(output) - 1],
                                                tf.int32)], axis=0)
    keep = tf.reshape(valid, shape)
    return tf.where(keep, output, tf.constant(np.nan, output.dtype))


def reference_values(specs: Sequence, rows: int, offset: int = 0
                     ) -> dict[str, np.ndarray]:
    """Raw factor values for `rows` reference rows: class values in turn
    (from `offset`), continuous ones spread over mean +- 1.5 std."""
    out = {}
    for spec in specs:
        if spec.kind == "class":
            values = np.asarray(spec.values, np.float32)
            out[spec.name] = values[(np.arange(rows) + offset) % len(values)]
        else:
            spread = np.linspace(-1.5, 1.5, rows) if rows > 1 else [0.0]
            out[spec.name] = (spec.mean + spec.std * np.asarray(spread)
                              ).astype(np.float32)
    return out


def keras_inputs(specs: Sequence, main: str, array: np.ndarray,
                 values: dict) -> object:
    """What the Keras encoder (`main="image"`) or decoder (`"z"`) takes
    for `array` with raw factor `values` (one per row):
    `vae_tf.data.conditions.model_inputs`, imported only for a
    conditional model (an unconditional export loads no data module)."""
    if not specs:
        return array
    from vae_tf.data.conditions import model_inputs

    return model_inputs(specs, array, values, main)
