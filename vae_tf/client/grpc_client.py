"""`GrpcClient`: TF Serving's `PredictionService` over gRPC (`:8500`),
with the messages of `vae_tf.client.tensor_proto` (grpcio and protobuf,
no TensorFlow)."""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from vae_tf.client.base import ModelNotFoundError, ServingError, _Client


class GrpcClient(_Client):
    """TF Serving gRPC client (`:8500`), `PredictionService.Predict`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8500,
                 timeout: float = 10.0):
        import grpc

        from vae_tf.client import tensor_proto

        self.target = f"{host}:{port}"
        self.timeout = timeout
        self._grpc = grpc
        self._proto = tensor_proto
        self._channel = grpc.insecure_channel(
            self.target,
            options=[("grpc.max_receive_message_length", 256 << 20),
                     ("grpc.max_send_message_length", 256 << 20)],
        )
        self._predict = self._channel.unary_unary(
            tensor_proto.PREDICT_METHOD,
            request_serializer=tensor_proto.PredictRequest.SerializeToString,
            response_deserializer=tensor_proto.PredictResponse.FromString,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def predict(
        self, model: str, inputs: Mapping[str, np.ndarray],
        signature: str = "serving_default", version: Optional[int] = None,
    ) -> dict[str, np.ndarray]:
        """Runs `signature` of `model`; returns `{output_name: array}`."""
        proto = self._proto
        request = proto.PredictRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        if version is not None:
            request.model_spec.version.value = int(version)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(proto.to_tensor_proto(value))
        grpc = self._grpc
        try:
            reply = self._predict(request, timeout=self.timeout)
        except grpc.RpcError as err:
            code, details = err.code(), err.details()
            if code == grpc.StatusCode.NOT_FOUND:
                raise ModelNotFoundError(f"{self.target}: {details}") from None
            if code == grpc.StatusCode.UNAVAILABLE:
                raise ServingError(
                    f"Cannot reach TF Serving at {self.target}: {details}. "
                    "Is the server running (see serving/README.md)?"
                ) from None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise ServingError(
                    f"TF Serving at {self.target} did not answer within "
                    f"{self.timeout} s (model {model!r})."
                ) from None
            if "not found" in (details or "").lower():
                raise ModelNotFoundError(f"{self.target}: {details}") from None
            raise ServingError(
                f"{self.target}: {code.name}: {details}") from None
        return {k: proto.to_ndarray(v) for k, v in reply.outputs.items()}
