"""Small TF Serving stand-ins for tests: the real REST and gRPC protocols,
answered by running the exported SavedModels from a base folder.

They implement what `vae_tf.client` uses, as TF Serving 2.x does it:
`POST /v1/models/NAME[/versions/V]:predict` with `inputs` or `instances`,
`GET /v1/models/NAME[/versions/V]` (version status) and `GET .../metadata`,
and `PredictionService/Predict`; the versions a `models.config`'s
`model_version_policy` names (default: the newest only). Both bind to
127.0.0.1 on a free port and stop when the test ends.

A stand-in must answer as the real server does, or the client is tested
against a server that does not exist (an earlier stand-in always named its
outputs, and the REST `decode` then failed against a real TF Serving).
From https://www.tensorflow.org/tfx/serving/api_rest:
- row format: "If the output of the model contains only one named tensor,
  we omit the name and predictions key maps to a list of scalar or list
  values. If the model outputs multiple named tensors, we output a list of
  objects instead";
- columnar format: the same, with `outputs` mapping to the bare value, or
  to an object of the named outputs;
- status: `{"model_version_status": [{"version": "1", "state":
  "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`;
- metadata: a JSON `GetModelMetadataResponse`, `{"model_spec": ...,
  "metadata": {"signature_def": {"signature_def": {NAME: {"inputs": ...,
  "outputs": ..., "method_name": ...}}}}}`;
- errors: `{"error": <error message string>}`.
And from TF Serving's sources (the messages are theirs):
- unknown model or version: 404 / NOT_FOUND, "Servable not found for
  request: Specific(NAME, V)"; status of nothing served: "Could not find
  any versions of model NAME" (get_model_status_impl.cc);
- unknown signature: REST 400 'Serving signature name: "x" not found in
  signature def'; gRPC FAILED_PRECONDITION 'Serving signature key "x" not
  found.' (predict_util.cc);
- gRPC inputs: an extra or missing key is INVALID_ARGUMENT "input size does
  not match signature: ..." and a tensor of another dtype "Expects arg[0]
  to be float but double is provided" (never cast;
  `vae_tf.export.predict_checks`);
- REST `instances` objects must have exactly the signature's keys (400
  "... does not have named input: x"); REST `inputs` reads the signature's
  names and ignores other keys (json_tensor.cc FillTensorMapFromInputsMap);
  JSON numbers take the signature's dtype.
And, given the platform config the server is started with (default:
TF Serving's defaults without one, warmup on and no batching), its
batching session's rules (`vae_tf.export.batching`, from batching_session.cc
and shared_batch_scheduler.h: rank-0 inputs and requests over
`max_batch_size` rows refused, outputs split along dimension 0) and its
warmup at load (every record of `assets.extra/tf_serving_warmup_requests`
replayed; a failing record fails the load, and the version is then not
found).
`tests/client/test_client.py` pins each of these.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import numpy as np
import tensorflow as tf

from vae_tf.export.predict_checks import check_inputs


class ModelRepository:
    """The SavedModels under `base/NAME/<version>` that a TF Serving
    started on `base` would serve, loaded on demand (cached).

    Without `models_config` every folder of `base` is a model served with
    TF Serving's default version policy, the newest version only. With
    one (a `ModelServerConfig` text proto such as `serving/models.config`)
    exactly its models are served, from their `base_path` (`/models/...`
    stands for `base`), with their `model_version_policy`: `latest
    {num_versions: N}`, `specific {versions: ...}` or `all {}`.
    """

    def __init__(self, base: str, models_config: Optional[str] = None,
                 platform_config: Optional[str] = None):
        self.base = base
        self._policies = None
        if models_config is not None:
            self._policies = _read_models_config(models_config, base)
        self.rules, self.warmup = None, True  # the server's defaults
        if platform_config is not None:
            from vae_tf.export.platform_config import read_platform_config

            server = read_platform_config(platform_config)
            self.rules, self.warmup = server.batching_rules, server.warmup
        self.warmups_run: dict[tuple[str, int], int] = {}
        self.load_errors: dict[tuple[str, int], str] = {}
        self._cache = {}
        self._lock = threading.Lock()

    def served_versions(self, name: str) -> list[int]:
        """The versions of `name` being served, ascending (may be empty)."""
        if self._policies is None:
            folder, policy = os.path.join(self.base, name), None
        elif name in self._policies:
            folder, policy = self._policies[name]
        else:
            return []
        found = sorted(
            int(d) for d in
            (os.listdir(folder) if os.path.isdir(folder) else [])
            if d.isdigit()
        )
        kind = None if policy is None else policy.WhichOneof("policy_choice")
        if kind == "all":
            return found
        if kind == "specific":
            return [v for v in found if v in set(policy.specific.versions)]
        keep = 1  # TF Serving's default: the newest version
        if kind == "latest" and policy.latest.num_versions:
            keep = policy.latest.num_versions
        return found[-keep:]

    def _folder(self, name: str) -> str:
        if self._policies is None:
            return os.path.join(self.base, name)
        return self._policies[name][0]

    def load(self, name: str, version):
        """`(loaded SavedModel, version)`; `LookupError` with TF Serving's
        message if that version is not served."""
        served = self.served_versions(name)
        if version is None:
            if not served:
                raise LookupError(
                    f"Servable not found for request: Latest({name})")
            version = served[-1]
        elif int(version) not in served:
            raise LookupError(
                f"Servable not found for request: Specific({name}, {version})"
            )
        key = (name, int(version))
        with self._lock:
            if key not in self._cache and key not in self.load_errors:
                folder = os.path.join(self._folder(name), str(version))
                loaded = tf.saved_model.load(folder)
                try:
                    if self.warmup:
                        self.warmups_run[key] = self._replay(loaded, folder)
                    self._cache[key] = loaded
                except (ValueError, tf.errors.OpError) as err:
                    self.load_errors[key] = str(err)
        if key not in self._cache:  # the load failed: nothing is served
            raise LookupError(
                f"Servable not found for request: Specific({name}, "
                f"{version})")
        return self._cache[key], int(version)

    def _replay(self, loaded, folder: str) -> int:
        """The server's warmup: every record of the version's warmup file
        run as a request; the first failure fails the load."""
        from tensorflow_serving.apis import prediction_log_pb2

        path = os.path.join(folder, "assets.extra",
                            "tf_serving_warmup_requests")
        if not os.path.isfile(path):  # "No warmup data file found"
            return 0
        count = 0
        for record in tf.data.TFRecordDataset(path):
            request = prediction_log_pb2.PredictionLog.FromString(
                record.numpy()).predict_log.request
            fn = loaded.signatures[
                request.model_spec.signature_name or "serving_default"]
            _predict_request(fn, dict(request.inputs), self.rules)
            count += 1
        return count

    def signature(self, name: str, version, signature: str):
        """The signature function; `KeyError` (a `LookupError`: catch it
        first) if the model lacks it."""
        loaded, _ = self.load(name, version)
        if signature not in loaded.signatures:
            raise KeyError(signature)
        return loaded.signatures[signature]


def _read_models_config(path: str, base: str) -> dict:
    """`{name: (local base path, ModelVersionPolicy or None)}`."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    with open(path, encoding="utf-8") as f:
        config = text_format.Parse(
            f.read(), model_server_config_pb2.ModelServerConfig())
    models = {}
    for entry in config.model_config_list.config:
        local = entry.base_path
        if local.startswith("/models/"):
            local = os.path.join(base, local[len("/models/"):])
        policy = (entry.model_version_policy
                  if entry.HasField("model_version_policy") else None)
        models[entry.name] = (local, policy)
    return models


def model_status(name: str, versions: list[int], version=None) -> dict:
    """`GetModelStatusResponse` as JSON (`GET /v1/models/NAME[/versions/
    V]`); `LookupError` with TF Serving's message for nothing served."""
    if not versions:
        raise LookupError(f"Could not find any versions of model {name}")
    if version is not None:
        if int(version) not in versions:
            raise LookupError(
                f"Could not find version {version} of model {name}")
        versions = [int(version)]
    return {"model_version_status": [
        {"version": str(v), "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}}
        for v in sorted(versions, reverse=True)]}


def _inputs(fn) -> dict:
    """The signature's input specs by name."""
    return fn.structured_input_signature[1]


def _run(fn, arrays: dict, rules=None) -> dict:
    """Runs `fn` on arrays already checked against its inputs, through
    the batching session's rules (`BatchingRules`) when batching is on:
    rank-0 inputs, unequal row counts and requests over `max_batch_size`
    rows are refused, and each output must split along dimension 0."""
    spec = _inputs(fn)
    arrays = {k: np.asarray(arrays[k]).astype(spec[k].dtype.as_numpy_dtype)
              for k in spec}

    def run_batch(batch: dict) -> dict:
        return {k: v.numpy() for k, v in fn(**{
            k: tf.constant(v, dtype=spec[k].dtype) for k, v in batch.items()}
        ).items()}

    if rules is None:
        return run_batch(arrays)
    return rules.run(run_batch, arrays)


def _columnar(fn, inputs, rules=None) -> dict:
    """REST `inputs`: as TF Serving's json_tensor.cc reads it, the
    signature's inputs are looked up by name (other keys are ignored) and
    converted to the signature's dtypes."""
    spec = _inputs(fn)
    if not isinstance(inputs, dict):
        if len(spec) > 1:
            raise ValueError(
                "inputs is a plain value/list, but expecting an object as "
                "multiple input tensors required as per tensorinfo_map")
        inputs = {next(iter(spec)): inputs}
    arrays = {}
    for name in sorted(spec):
        if name not in inputs:
            raise ValueError(
                f"Missing named input: {name} in 'inputs' object.")
        arrays[name] = np.asarray(inputs[name])
    return _run(fn, arrays, rules)


def _rows(fn, instances: list, rules=None) -> dict:
    """REST `instances`: every object must have exactly the signature's
    inputs (json_tensor.cc FillTensorMapFromInstancesList)."""
    spec = _inputs(fn)
    names = sorted(spec)
    if not isinstance(instances[0], dict):
        if len(spec) > 1:
            raise ValueError(
                "instances is a plain list, but expecting list of objects "
                "as multiple input tensors required as per tensorinfo_map")
        instances = [{names[0]: row} for row in instances]
    for i, row in enumerate(instances):
        for key in row:
            if key not in spec:
                raise ValueError(
                    f"Failed to process element: {i} key: {key} of "
                    "'instances' list. Error: INVALID_ARGUMENT: JSON "
                    f"object: does not have named input: {key}")
        if sorted(row) != names:
            raise ValueError(
                f"Failed to process element: {i} of 'instances' list. "
                f"JSON object: {json.dumps(row)} keys must be equal to: "
                f"{','.join(names)}")
    arrays = {k: np.array([r[k] for r in instances]) for k in names}
    return _run(fn, arrays, rules)


def _predict_request(fn, tensors: dict, rules=None) -> dict:
    """gRPC `PredictRequest.inputs`: TF Serving's PreProcessPrediction
    checks, then the session's dtype check (no casting)."""
    spec = _inputs(fn)
    check_inputs({k: tf.dtypes.as_dtype(v.dtype) for k, v in tensors.items()},
                 {k: v.dtype for k, v in spec.items()})
    return _run(fn, {k: tf.make_ndarray(tensors[k]) for k in spec}, rules)


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
    """`ThreadingHTTPServer` speaking TF Serving's REST API: predict,
    model status and metadata."""

    _PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")
    _METADATA = re.compile(
        r"^/v1/models/([^/:]+)(?:/versions/(\d+))?/metadata$")
    _STATUS = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?$")

    def __init__(self, base: str, models_config: Optional[str] = None,
                 platform_config: Optional[str] = None):
        repo = ModelRepository(base, models_config, platform_config)
        self.repo = repo

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
                meta = RestServer._METADATA.match(self.path)
                status = RestServer._STATUS.match(self.path)
                try:
                    if meta:
                        loaded, version = repo.load(meta.group(1),
                                                    meta.group(2))
                        return self._reply(
                            200, metadata(meta.group(1), version, loaded))
                    if status:
                        name = status.group(1)
                        return self._reply(200, model_status(
                            name, repo.served_versions(name),
                            status.group(2)))
                except LookupError as err:
                    return self._reply(404, {"error": str(err).strip("'\"")})
                return self._reply(
                    404, {"error": f"Malformed request: GET {self.path}"})

            def do_POST(self):
                m = RestServer._PATH.match(self.path)
                if not m:
                    return self._reply(
                        404,
                        {"error": f"Malformed request: POST {self.path}"})
                try:
                    body = json.loads(
                        self.rfile.read(int(self.headers["Content-Length"])))
                    signature = body.get("signature_name", "serving_default")
                    fn = repo.signature(m.group(1), m.group(2), signature)
                    if "instances" in body:
                        out = _rows(fn, body["instances"], repo.rules)
                        if len(out) == 1:  # one output: bare rows
                            return self._reply(200, {"predictions": next(
                                iter(out.values())).tolist()})
                        n = len(next(iter(out.values())))
                        preds = [{k: v[i].tolist() for k, v in out.items()}
                                 for i in range(n)]
                        return self._reply(200, {"predictions": preds})
                    if "inputs" not in body:
                        raise ValueError("Missing 'inputs' or 'instances' key")
                    out = _columnar(fn, body["inputs"], repo.rules)
                    if len(out) == 1:  # one output: a bare value
                        return self._reply(200, {"outputs": next(
                            iter(out.values())).tolist()})
                    return self._reply(200, {"outputs": {
                        k: v.tolist() for k, v in out.items()}})
                except KeyError as err:  # REST looks the signature up first
                    return self._reply(400, {"error": (
                        f'Serving signature name: "{err.args[0]}" not '
                        "found in signature def")})
                except LookupError as err:
                    return self._reply(404, {"error": str(err).strip("'\"")})
                except (ValueError, tf.errors.OpError) as err:
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

    def __init__(self, base: str, models_config: Optional[str] = None,
                 platform_config: Optional[str] = None):
        import grpc
        from tensorflow_serving.apis import (predict_pb2,
                                             prediction_service_pb2_grpc)

        repo = ModelRepository(base, models_config, platform_config)
        self.repo = repo

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                spec = request.model_spec
                version = (spec.version.value if spec.HasField("version")
                           else None)
                signature = spec.signature_name or "serving_default"
                try:
                    fn = repo.signature(spec.name, version, signature)
                    out = _predict_request(fn, dict(request.inputs),
                                           repo.rules)
                except KeyError:  # predict_util.cc's message and code
                    context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        f'Serving signature key "{signature}" not found.')
                except LookupError as err:
                    context.abort(grpc.StatusCode.NOT_FOUND,
                                  str(err).strip("'\""))
                except (ValueError, tf.errors.OpError) as err:
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
