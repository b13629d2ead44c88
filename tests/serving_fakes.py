"""Small TF Serving stand-ins for tests: the real REST and gRPC protocols,
answered by running the exported SavedModels from a base folder.

They implement what `vae_tf.client` uses: `POST /v1/models/NAME[/versions/
V]:predict` with `inputs` or `instances`, `GET .../metadata`, and
`PredictionService/Predict`, with TF Serving's error shapes (404 / NOT_FOUND
for an unknown model or version, 400 / INVALID_ARGUMENT for an unknown
signature or bad input). Both bind to 127.0.0.1 on a free port and stop when
the test ends.

A stand-in must answer as the real server's documentation says, or the
client is tested against a server that does not exist (an earlier stand-in
always named its outputs, and the REST `decode` then failed against a real
TF Serving). From https://www.tensorflow.org/tfx/serving/api_rest:
- row format: "If the output of the model contains only one named tensor,
  we omit the name and predictions key maps to a list of scalar or list
  values. If the model outputs multiple named tensors, we output a list of
  objects instead";
- columnar format: the same, with `outputs` mapping to the bare value, or
  to an object of the named outputs;
- metadata: a JSON `GetModelMetadataResponse`, `{"model_spec": ...,
  "metadata": {"signature_def": {"signature_def": {NAME: {"inputs": ...,
  "outputs": ..., "method_name": ...}}}}}`;
- errors: `{"error": <error message string>}`.
`tests/test_serving.py::test_rest_stand_in_answers_as_documented` pins these.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf


class ModelRepository:
    """Loads `base/NAME/<version>` SavedModels on demand (cached)."""

    def __init__(self, base: str):
        self.base = base
        self._cache = {}
        self._lock = threading.Lock()

    def signature(self, name: str, version, signature: str):
        folder = os.path.join(self.base, name)
        found = sorted(
            int(d) for d in
            (os.listdir(folder) if os.path.isdir(folder) else [])
            if d.isdigit()
        )
        if version is None:
            if not found:
                raise LookupError(
                    f"Servable not found for request: Latest({name})")
            version = found[-1]
        elif int(version) not in found:
            raise LookupError(
                f"Servable not found for request: Specific({name}, {version})"
            )
        key = (name, int(version))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = tf.saved_model.load(
                    os.path.join(folder, str(version))
                )
        loaded = self._cache[key]
        if signature is None:
            return loaded, int(version)
        if signature not in loaded.signatures:
            raise KeyError(
                f'Serving signature name: "{signature}" '
                'not found in signature def'
            )
        return loaded.signatures[signature]


def _call(fn, arrays):
    spec = fn.structured_input_signature[1]
    missing = set(spec) - set(arrays)
    if missing:
        raise ValueError(f"Missing inputs: {sorted(missing)}")
    args = {k: tf.constant(np.asarray(v), dtype=spec[k].dtype)
            for k, v in arrays.items()}
    return {k: v.numpy() for k, v in fn(**args).items()}


def _tensor_info(name: str, spec) -> dict:
    """A TensorInfo as TF Serving's JSON renders it."""
    dims = [{"size": str(-1 if d is None else d), "name": ""}
            for d in spec.shape]
    from tensorflow.core.framework import types_pb2

    return {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum),
            "tensor_shape": {"dim": dims, "unknown_rank": False},
            "name": name}


def metadata(name: str, version: int, loaded) -> dict:
    """`GetModelMetadataResponse` of a loaded SavedModel, as JSON."""
    defs = {}
    for sig, fn in loaded.signatures.items():
        defs[sig] = {
            "inputs": {k: _tensor_info(f"{sig}_{k}:0", v) for k, v in
                       fn.structured_input_signature[1].items()},
            "outputs": {k: _tensor_info(f"StatefulPartitionedCall:{i}", v)
                        for i, (k, v) in
                        enumerate(sorted(fn.structured_outputs.items()))},
            "method_name": "tensorflow/serving/predict",
        }
    return {
        "model_spec": {"name": name, "signature_name": "",
                       "version": str(version)},
        "metadata": {"signature_def": {"signature_def": defs}},
    }


class RestServer:
    """`ThreadingHTTPServer` speaking TF Serving's REST predict API."""

    _PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")
    _METADATA = re.compile(
        r"^/v1/models/([^/:]+)(?:/versions/(\d+))?/metadata$")

    def __init__(self, base: str):
        repo = ModelRepository(base)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                m = RestServer._METADATA.match(self.path)
                if not m:
                    return self._reply(
                        404,
                        {"error": f"Malformed request: GET {self.path}"})
                try:
                    loaded, version = repo.signature(m.group(1), m.group(2),
                                                     None)
                except LookupError as err:
                    return self._reply(404, {"error": str(err).strip("'\"")})
                return self._reply(200, metadata(m.group(1), version, loaded))

            def do_POST(self):
                m = RestServer._PATH.match(self.path)
                if not m:
                    return self._reply(
                        404,
                        {"error": f"Malformed request: POST {self.path}"})
                body = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    fn = repo.signature(
                        m.group(1), m.group(2),
                        body.get("signature_name", "serving_default"))
                    if "instances" in body:
                        rows = body["instances"]
                        arrays = {k: np.array([r[k] for r in rows])
                                  for k in rows[0]}
                        out = _call(fn, arrays)
                        if len(out) == 1:  # one output: bare rows
                            return self._reply(200, {"predictions": next(
                                iter(out.values())).tolist()})
                        preds = [{k: v[i].tolist() for k, v in out.items()}
                                 for i in range(len(rows))]
                        return self._reply(200, {"predictions": preds})
                    out = _call(fn, {k: np.array(v)
                                     for k, v in body["inputs"].items()})
                    if len(out) == 1:  # one output: a bare value
                        return self._reply(200, {"outputs": next(
                            iter(out.values())).tolist()})
                    return self._reply(200, {"outputs": {
                        k: v.tolist() for k, v in out.items()}})
                except LookupError as err:
                    return self._reply(404, {"error": str(err).strip("'\"")})
                except (KeyError, ValueError, tf.errors.OpError) as err:
                    return self._reply(400, {"error": str(err).strip("'\"")})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class GrpcServer:
    """grpc server implementing `tensorflow.serving.PredictionService`."""

    def __init__(self, base: str):
        import grpc
        from tensorflow_serving.apis import (predict_pb2,
                                             prediction_service_pb2_grpc)

        repo = ModelRepository(base)

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                spec = request.model_spec
                version = (spec.version.value if spec.HasField("version")
                           else None)
                try:
                    fn = repo.signature(
                        spec.name, version,
                        spec.signature_name or "serving_default")
                    arrays = {k: tf.make_ndarray(v)
                              for k, v in request.inputs.items()}
                    out = _call(fn, arrays)
                except LookupError as err:
                    context.abort(grpc.StatusCode.NOT_FOUND,
                                  str(err).strip("'\""))
                except (KeyError, ValueError, tf.errors.OpError) as err:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                  str(err).strip("'\""))
                reply = predict_pb2.PredictResponse()
                for k, v in out.items():
                    reply.outputs[k].CopyFrom(tf.make_tensor_proto(v))
                return reply

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            Servicer(), self.server
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop(grace=None)
