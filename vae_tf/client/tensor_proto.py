"""TF Serving's gRPC messages and `TensorProto`s without TensorFlow.

`tensorflow-serving-api`'s message classes import TensorFlow (its
`TensorProto` lives in the `tensorflow` package), which a serving client
should not need. This module declares the few messages `Predict` uses, with
the field numbers of `tensorflow/core/framework/tensor.proto`,
`tensor_shape.proto` and `tensorflow_serving/apis/{model,predict}.proto`,
in a private descriptor pool (so they never clash with TensorFlow's own),
and converts between them and NumPy arrays. Only `protobuf` and NumPy are
imported; tests/client/test_tensor_proto.py checks the bytes against
TensorFlow's.

    request = PredictRequest()
    request.inputs["z"].CopyFrom(to_tensor_proto(np.zeros((2, 16), "f4")))
    array = to_ndarray(reply.outputs["image"])
"""

from __future__ import annotations

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"

# DataType enum values (tensorflow/core/framework/types.proto).
_DTYPES = {
    np.dtype(np.float32): 1, np.dtype(np.float64): 2, np.dtype(np.int32): 3,
    np.dtype(np.uint8): 4, np.dtype(np.int16): 5, np.dtype(np.int8): 6,
    np.dtype(np.int64): 9, np.dtype(np.bool_): 10, np.dtype(np.float16): 19,
}
_NUMPY = {code: dtype for dtype, code in _DTYPES.items()}
_STRING = 7
# The typed repeated field a sender may use instead of tensor_content.
_VALUES = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val",
           5: "int_val", 6: "int_val", 9: "int64_val", 10: "bool_val",
           19: "half_val"}

_F = descriptor_pb2.FieldDescriptorProto


def _message(file, name, fields, nested=()):
    """Adds message `name` with `(name, number, type, repeated, type_name)`
    fields to `file`; `nested` are map-entry messages inside it."""
    msg = file.message_type.add(name=name)
    for entry_name, value_type in nested:
        entry = msg.nested_type.add(name=entry_name)
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_F.TYPE_STRING,
                        label=_F.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, type=_F.TYPE_MESSAGE,
                        label=_F.LABEL_OPTIONAL, type_name=value_type)
    for field_name, number, kind, repeated, type_name in fields:
        field = msg.field.add(
            name=field_name, number=number, type=kind,
            label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
        if type_name:
            field.type_name = type_name
    return msg


def _build_pool():
    file = descriptor_pb2.FileDescriptorProto(
        name="vae_tf/tensorflow_serving_predict.proto", package="tensorflow",
        syntax="proto3")
    _message(file, "Int64Value", [("value", 1, _F.TYPE_INT64, False, None)])
    # TensorShapeProto.Dim, declared at top level (names are not on the
    # wire; field numbers are).
    _message(file, "Dim", [("size", 1, _F.TYPE_INT64, False, None),
                           ("name", 2, _F.TYPE_STRING, False, None)])
    _message(file, "TensorShapeProto", [
        ("dim", 2, _F.TYPE_MESSAGE, True, ".tensorflow.Dim"),
        ("unknown_rank", 3, _F.TYPE_BOOL, False, None),
    ])
    _message(file, "TensorProto", [
        ("dtype", 1, _F.TYPE_INT32, False, None),  # an enum on the wire
        ("tensor_shape", 2, _F.TYPE_MESSAGE, False,
         ".tensorflow.TensorShapeProto"),
        ("version_number", 3, _F.TYPE_INT32, False, None),
        ("tensor_content", 4, _F.TYPE_BYTES, False, None),
        ("float_val", 5, _F.TYPE_FLOAT, True, None),
        ("double_val", 6, _F.TYPE_DOUBLE, True, None),
        ("int_val", 7, _F.TYPE_INT32, True, None),
        ("string_val", 8, _F.TYPE_BYTES, True, None),
        ("int64_val", 10, _F.TYPE_INT64, True, None),
        ("bool_val", 11, _F.TYPE_BOOL, True, None),
        ("half_val", 13, _F.TYPE_INT32, True, None),
    ])
    _message(file, "ModelSpec", [
        ("name", 1, _F.TYPE_STRING, False, None),
        ("version", 2, _F.TYPE_MESSAGE, False, ".tensorflow.Int64Value"),
        ("signature_name", 3, _F.TYPE_STRING, False, None),
        ("version_label", 4, _F.TYPE_STRING, False, None),
    ])
    _message(file, "PredictRequest", [
        ("model_spec", 1, _F.TYPE_MESSAGE, False, ".tensorflow.ModelSpec"),
        ("inputs", 2, _F.TYPE_MESSAGE, True,
         ".tensorflow.PredictRequest.InputsEntry"),
        ("output_filter", 3, _F.TYPE_STRING, True, None),
    ], nested=[("InputsEntry", ".tensorflow.TensorProto")])
    _message(file, "PredictResponse", [
        ("outputs", 1, _F.TYPE_MESSAGE, True,
         ".tensorflow.PredictResponse.OutputsEntry"),
        ("model_spec", 2, _F.TYPE_MESSAGE, False, ".tensorflow.ModelSpec"),
    ], nested=[("OutputsEntry", ".tensorflow.TensorProto")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


_POOL = _build_pool()


def _class(name):
    return message_factory.GetMessageClass(
        _POOL.FindMessageTypeByName(f"tensorflow.{name}"))


TensorProto = _class("TensorProto")
PredictRequest = _class("PredictRequest")
PredictResponse = _class("PredictResponse")


def to_tensor_proto(value) -> TensorProto:
    """A NumPy array (or scalar) as a `TensorProto`: its dtype, shape, and
    the values as little-endian `tensor_content` (strings: `string_val`),
    as `tf.make_tensor_proto` writes them."""
    array = np.asarray(value)
    proto = TensorProto()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if array.dtype.kind in "SUO":
        proto.dtype = _STRING
        proto.string_val.extend(
            v if isinstance(v, bytes) else str(v).encode()
            for v in array.ravel().tolist())
        return proto
    if array.dtype not in _DTYPES:
        raise TypeError(
            f"Cannot send a {array.dtype} array to TF Serving. Use one of: "
            f"{', '.join(sorted(d.name for d in _DTYPES))} (or strings).")
    proto.dtype = _DTYPES[array.dtype]
    proto.tensor_content = array.astype(array.dtype.newbyteorder("<"),
                                        copy=False).tobytes(order="C")
    return proto


def to_ndarray(proto) -> np.ndarray:
    """A `TensorProto` as a NumPy array (`tensor_content`, or the typed
    value field with its last value repeated to fill the shape, as
    `tf.make_ndarray` reads it)."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    count = int(np.prod(shape, dtype=np.int64))
    if proto.dtype == _STRING:
        values = np.array(list(proto.string_val), dtype=object)
    elif proto.dtype in _NUMPY:
        dtype = _NUMPY[proto.dtype]
        if proto.tensor_content:
            return np.frombuffer(proto.tensor_content,
                                 dtype.newbyteorder("<")).astype(
                                     dtype).reshape(shape)
        values = np.asarray(getattr(proto, _VALUES[proto.dtype]))
        if proto.dtype == 19:  # half_val holds the float16 bit patterns
            values = values.astype(np.uint16).view(np.float16)
        values = values.astype(dtype)
    else:
        raise TypeError(f"TensorProto of DataType {proto.dtype} is not "
                        "supported (numeric types and strings are).")
    if len(values) == count:
        return values.reshape(shape)
    if 0 < len(values) < count:
        values = np.concatenate(
            [values, np.repeat(values[-1:], count - len(values))])
        return values.reshape(shape)
    if count == 0:
        return values[:0].reshape(shape)
    raise ValueError(f"TensorProto holds {len(values)} values for shape "
                     f"{shape}.")
