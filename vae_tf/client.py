"""Clients for models served by TensorFlow Serving: REST and gRPC.

Both return NumPy arrays keyed by output name and raise `ServingError`
(or its `ModelNotFoundError`) with a one-line reason: unreachable server,
timeout, unknown model, version or signature, bad input.

    client = RestClient("127.0.0.1", 8501)
    images = client.decode(z)                      # vae_decoder, (n, H, W, C)
    codes = client.encode(images)                  # {"z_mean", "z_log_var"}

REST uses `POST /v1/models/NAME[/versions/V]:predict` with the columnar
`inputs` format (or row `instances`), `GET .../metadata` for the name of
a single output (TF Serving answers those unnamed), and `GET
/v1/models/NAME` for the versions being served (`status`); gRPC calls
`tensorflow.serving.PredictionService/Predict` with the messages of
`vae_tf.tensor_proto`.

This module needs NumPy only (REST: the standard library's `urllib`), plus
`grpcio` and `protobuf` for gRPC; never TensorFlow, so apps that call a
server can import it without the trainer's stack (`import vae_tf` imports
nothing heavy either).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Mapping, Optional

import numpy as np

from vae_tf.seeds import as_seeds, row_seeds

DEFAULT_ENCODER = "vae_encoder"
DEFAULT_DECODER = "vae_decoder"


class ServingError(RuntimeError):
    """The server could not be reached or refused the request."""


class ModelNotFoundError(ServingError):
    """The server does not have the model, version or signature asked for."""


class _Client:
    """Shared `encode` / `decode` / `sample` conveniences."""

    def predict(self, model, inputs, signature="serving_default",
                version=None):
        raise NotImplementedError

    def encode(self, images, model: str = DEFAULT_ENCODER, sample=False,
               version: Optional[int] = None, seed: int = 0
               ) -> dict[str, np.ndarray]:
        """Images `(n, H, W, C)` in [0, 1] -> `z_mean`, `z_log_var`; with
        `sample`, also `z`, a posterior draw per image, image i's from
        seed `seed + i` (`encode_sample`)."""
        images = np.asarray(images, np.float32)
        inputs = {"image": images}
        signature = "serving_default"
        if sample:
            signature = "encode_sample"
            inputs["seed"] = row_seeds(len(images), seed)
        return self.predict(model, inputs, signature, version)

    def decode(self, z, model: str = DEFAULT_DECODER,
               version: Optional[int] = None) -> np.ndarray:
        """Latents `(n, latent_dim)` -> images `(n, H, W, C)`."""
        return self.predict(
            model, {"z": np.asarray(z, np.float32)}, "serving_default",
            version,
        )["image"]

    def sample(self, num_samples: Optional[int] = None, seed: int = 0,
               model: str = DEFAULT_DECODER,
               version: Optional[int] = None, seeds=None) -> np.ndarray:
        """Images `(n, H, W, C)` decoded from draws of the sampler the
        model was exported with (the run's fitted mixture, or N(0, I)),
        one per seed: `seed, seed + 1, ..., seed + num_samples - 1`, or
        `seeds`. Image i is the same as `vae_tf.generate.sample` gives
        for that seed, and does not depend on the other rows."""
        if seeds is None:
            if num_samples is None:
                raise ValueError("Expected num_samples or seeds.")
            seeds = row_seeds(num_samples, seed)
        return self.predict(model, {"seed": as_seeds(seeds)}, "sample",
                            version)["image"]


def _model_path(model: str, version: Optional[int]) -> str:
    """`/v1/models/NAME[/versions/V]`, TF Serving's REST model path."""
    path = f"/v1/models/{model}"
    if version is not None:
        path += f"/versions/{int(version)}"
    return path


class RestClient(_Client):
    """TF Serving REST client (`:8501`).

    Args:
        host, port: server address.
        timeout: seconds per request.
        row_format: send `instances` (row) instead of `inputs` (columnar).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8501,
                 timeout: float = 10.0, row_format: bool = False):
        self.url = f"http://{host}:{port}"
        self.timeout = timeout
        self.row_format = row_format
        self._outputs: dict[tuple[str, str], list[str]] = {}

    def predict(
        self, model: str, inputs: Mapping[str, np.ndarray],
        signature: str = "serving_default", version: Optional[int] = None,
    ) -> dict[str, np.ndarray]:
        """Runs `signature` of `model`; returns `{output_name: array}`."""
        path = _model_path(model, version)
        body = {"signature_name": signature}
        arrays = {k: np.asarray(v) for k, v in inputs.items()}
        if self.row_format:
            n = len(next(iter(arrays.values())))
            body["instances"] = [
                {k: v[i].tolist() for k, v in arrays.items()} for i in range(n)
            ]
        else:
            body["inputs"] = {k: v.tolist() for k, v in arrays.items()}
        reply = self._request(path + ":predict", model, body)
        # TF Serving names the outputs only when there are several; a
        # single output comes bare ("outputs": value, or "predictions":
        # [row, ...]) and its name is read from the model's metadata.
        if "outputs" in reply:
            out = reply["outputs"]
            if isinstance(out, dict):
                return {k: np.asarray(v, np.float32) for k, v in out.items()}
            return {self._single_output(path, model, signature):
                    np.asarray(out, np.float32)}
        rows = reply.get("predictions")
        if rows is None:
            raise ServingError(f"Unexpected reply from {self.url}: {reply}")
        if rows and isinstance(rows[0], dict):
            return {
                k: np.asarray([r[k] for r in rows], np.float32) for k in rows[0]
            }
        return {self._single_output(path, model, signature):
                np.asarray(rows, np.float32)}

    def status(self, model: str,
               version: Optional[int] = None) -> dict[int, str]:
        """`{version: state}` of the versions the server has of `model`
        (`GET /v1/models/NAME[/versions/V]`); a served version is
        `"AVAILABLE"`. `ModelNotFoundError` if it serves none (or not
        `version`): check the base path and the models.config's
        `model_version_policy`."""
        path = _model_path(model, version)
        reply = self._request(path, model)
        try:
            return {int(s["version"]): s["state"]
                    for s in reply["model_version_status"]}
        except (KeyError, TypeError, ValueError):
            raise ServingError(
                f"Unexpected status from {self.url}{path}: {reply}") from None

    def output_names(self, model: str, signature: str = "serving_default",
                     version: Optional[int] = None) -> list[str]:
        """The output names of `signature`, from `GET .../metadata`."""
        return self._output_names(_model_path(model, version), model,
                                  signature)

    def _output_names(self, path: str, model: str, signature: str):
        key = (path, signature)
        if key not in self._outputs:
            reply = self._request(path + "/metadata", model)
            try:
                defs = reply["metadata"]["signature_def"]["signature_def"]
            except (KeyError, TypeError):
                raise ServingError(
                    f"Unexpected metadata from {self.url}{path}: {reply}"
                ) from None
            if signature not in defs:
                raise ModelNotFoundError(
                    f"{self.url}{path}: signature {signature!r} not found; "
                    f"the model has {sorted(defs)}"
                )
            self._outputs[key] = sorted(defs[signature].get("outputs", {}))
        return self._outputs[key]

    def _single_output(self, path: str, model: str, signature: str) -> str:
        names = self._output_names(path, model, signature)
        if len(names) != 1:
            raise ServingError(
                f"{self.url}{path}: signature {signature!r} answered one "
                f"unnamed output, but its metadata lists {names}"
            )
        return names[0]

    def _request(self, path: str, model: str,
                 body: Optional[dict] = None) -> dict:
        """`POST` `body` (or `GET` without one); the JSON reply."""
        if body is None:
            request = urllib.request.Request(self.url + path, method="GET")
        else:
            request = urllib.request.Request(
                self.url + path, data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"}, method="POST",
            )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            try:
                message = json.loads(err.read()).get("error", err.reason)
            except (ValueError, AttributeError):
                message = err.reason
            if err.code == 404 or "not found" in str(message).lower():
                raise ModelNotFoundError(
                    f"{self.url}{path}: {message}"
                ) from None
            raise ServingError(
                f"{self.url}{path}: HTTP {err.code}: {message}") from None
        except (socket.timeout, TimeoutError):
            raise ServingError(
                f"TF Serving at {self.url} did not answer within "
                f"{self.timeout} s (model {model!r})."
            ) from None
        except urllib.error.URLError as err:
            raise ServingError(
                f"Cannot reach TF Serving at {self.url}: {err.reason}. Is the "
                "server running (see serving/README.md)?"
            ) from None


class GrpcClient(_Client):
    """TF Serving gRPC client (`:8500`), `PredictionService.Predict`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8500,
                 timeout: float = 10.0):
        import grpc

        from vae_tf import tensor_proto

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
