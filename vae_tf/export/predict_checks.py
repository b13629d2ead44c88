"""TF Serving's checks of a Predict request's inputs before
`Session::Run`, read from tensorflow/serving's sources, for the stand-ins
that run without the server (the tests' gRPC server, the soak).

- `predict_util.cc` (`PreProcessPrediction`): the request must name
  exactly the signature's inputs: an extra or missing key is
  INVALID_ARGUMENT "input size does not match signature: ...", an unknown
  one "input tensor alias not found in signature: ...";
- then `Session::Run` compares each fed tensor's dtype with the graph's
  (inputs in the signature's sorted order) and never casts: "Expects
  arg[0] to be float but double is provided".

Values are not checked by the server: the exported signatures refuse
non-finite ones themselves (`finite_inputs`). The messages are the
server's own, raised as `ValueError`.
"""

from __future__ import annotations

from typing import Mapping


def dtype_name(dtype) -> str:
    """TensorFlow's DataTypeString of a `tf.DType`: `float`, `double`,
    `int64`, ..."""
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Name(dtype.as_datatype_enum)[3:].lower()


def check_inputs(sent: Mapping[str, object],
                 expected: Mapping[str, object]) -> None:
    """Raises `ValueError` with TF Serving's message unless `sent` (input
    name -> `tf.DType` of the tensor in the request) has exactly the
    names of `expected` (the signature's name -> `tf.DType`), each with
    its dtype."""
    names, wanted = sorted(sent), sorted(expected)
    if len(names) != len(wanted):
        raise ValueError(
            f"input size does not match signature: {len(names)}!="
            f"{len(wanted)} len({{{','.join(names)}}}) != "
            f"len({{{','.join(wanted)}}}). Sent extra: "
            f"{{{','.join(k for k in names if k not in expected)}}}. "
            f"Missing but required: "
            f"{{{','.join(k for k in wanted if k not in sent)}}}.")
    for key in names:
        if key not in expected:
            raise ValueError(
                f"input tensor alias not found in signature: {key}. Inputs "
                f"expected to be in the set {{{','.join(wanted)}}}.")
    for i, key in enumerate(wanted):
        if sent[key] != expected[key]:
            raise ValueError(
                f"Expects arg[{i}] to be {dtype_name(expected[key])} but "
                f"{dtype_name(sent[key])} is provided")
