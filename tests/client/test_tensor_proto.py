"""vae_tf.client.tensor_proto speaks TF Serving's wire format: its bytes
parse as TensorFlow's own messages and back, value for value."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from vae_tf.client import tensor_proto as tp

ARRAYS = [
    np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    np.array(3.25, np.float64),
    np.array([[-1, 2**31 - 1]], np.int32),
    np.array([-(2**40), 5], np.int64),
    np.arange(12, dtype=np.uint8).reshape(2, 2, 3),
    np.array([True, False, True]),
    np.array([0.5, -2.0, 65504.0], np.float16),
    np.array([-128, 127], np.int8),
    np.array([-3, 300], np.int16),
    np.zeros((0, 4), np.float32),
]


@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_arrays_round_trip_through_tensorflows_messages(array):
    ours = tp.to_tensor_proto(array)
    theirs = tf.make_tensor_proto(array)
    parsed = tf.make_ndarray(type(theirs).FromString(ours.SerializeToString()))
    assert parsed.dtype == array.dtype and parsed.shape == array.shape
    np.testing.assert_array_equal(parsed, array)
    back = tp.to_ndarray(tp.TensorProto.FromString(theirs.SerializeToString()))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_strings_and_typed_value_fields():
    words = np.array([b"smile", b"beard"])
    parsed = tf.make_ndarray(tf.make_tensor_proto(words).FromString(
        tp.to_tensor_proto(words).SerializeToString()))
    np.testing.assert_array_equal(parsed, words)
    # Senders may fill a shape from the typed field, the last value
    # repeating (TensorFlow's rule), and half floats travel as bit patterns.
    theirs = tf.make_tensor_proto(0.0, shape=[2, 2])
    theirs.ClearField("tensor_content")
    del theirs.float_val[:]
    theirs.float_val.extend([1.5, 2.5])
    got = tp.to_ndarray(tp.TensorProto.FromString(theirs.SerializeToString()))
    np.testing.assert_array_equal(got, tf.make_ndarray(theirs))
    np.testing.assert_array_equal(got, [[1.5, 2.5], [2.5, 2.5]])
    half = tf.make_tensor_proto(np.float16(0.0), shape=[2])
    half.ClearField("tensor_content")
    del half.half_val[:]
    half.half_val.extend(np.array([0.5, -3.0], np.float16).view(np.uint16)
                         .astype(int).tolist())
    np.testing.assert_array_equal(
        tp.to_ndarray(tp.TensorProto.FromString(half.SerializeToString())),
        tf.make_ndarray(half))


def test_predict_request_and_response_match_tensorflow_serving():
    request = tp.PredictRequest()
    request.model_spec.name = "vae_decoder"
    request.model_spec.version.value = 3
    request.model_spec.signature_name = "sample"
    request.inputs["seed"].CopyFrom(tp.to_tensor_proto(np.int64(7)))
    theirs = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert theirs.model_spec.name == "vae_decoder"
    assert theirs.model_spec.version.value == 3
    assert theirs.model_spec.signature_name == "sample"
    assert tf.make_ndarray(theirs.inputs["seed"]) == 7

    reply = predict_pb2.PredictResponse()
    reply.outputs["image"].CopyFrom(tf.make_tensor_proto(ARRAYS[0]))
    reply.model_spec.name = "vae_decoder"
    ours = tp.PredictResponse.FromString(reply.SerializeToString())
    assert ours.model_spec.name == "vae_decoder"
    np.testing.assert_array_equal(tp.to_ndarray(ours.outputs["image"]),
                                  ARRAYS[0])


def test_unsupported_values_are_clear_errors():
    with pytest.raises(TypeError, match="complex128.*Use one of"):
        tp.to_tensor_proto(np.zeros(2, np.complex128))
    bad = tp.TensorProto(dtype=8)  # DT_COMPLEX64
    with pytest.raises(TypeError, match="DataType 8"):
        tp.to_ndarray(bad)
