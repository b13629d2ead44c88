"""`RestClient`: TF Serving's REST API (`:8501`), standard library only."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Mapping, Optional

import numpy as np

from vae_tf.client.base import ModelNotFoundError, ServingError, _Client


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
