"""Loads an exported version the ways its consumers do, in a process of
its own; `check_export` runs it as

    python -m vae_tf.export.fresh_load VERSION_DIR [SERVER_JSON]
        [--cli SAVED_MODEL_CLI_ARGS_JSON ...]

and reads the one `RESULT {json}` line it prints. Only NumPy, TensorFlow,
the TF Serving protos and vae_tf's TF-free `layout`, `batching` and
`cli_tool` are imported: none of vae_tf's layers, losses or models (the
package `__init__`s import nothing), so the SavedModel must stand on its
own, as it does for an app or TF Serving. After the loads, each `--cli`
runs `saved_model_cli` in this process (`cli_tool`).

SERVER_JSON describes the server to emulate (`server_json`): the session
config (serialized `tf.compat.v1.ConfigProto` as hex), the batching rules
(`vae_tf.export.batching.BatchingRules`, or null), whether warmup is on
and its replays per record. Without it: TF Serving's defaults without a
platform config file (default session, no batching, warmup on).

- eager: `tf.saved_model.load`, every signature on its reference inputs
  (`assets.extra/vae_tf_reference.npz`), compared with the Keras model's
  outputs stored beside them;
- TF1 session: `tf.compat.v1.saved_model.loader.load` (TF Serving's C++
  path) in a session with that config (its executor applies; its thread
  counts do not, as the eager load above created the process's pools),
  every signature's reference request run as the server runs it: through
  the batching session's rules when batching is on;
- warmup: every record of `assets.extra/tf_serving_warmup_requests`
  checked as the server checks it (a Predict log, at most 1,000 records,
  inputs named and typed as the signature's) and replayed eagerly and in
  that session, as the server replays it at load;
- batching (when on): every signature's inputs and outputs have the batch
  as dimension 0, and two requests merged into one batch give each the
  same outputs as when they run apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Optional

import numpy as np
import tensorflow as tf

# layout and batching are plain os / NumPy: importing them pulls in
# neither Keras nor the exporter.
from vae_tf.export.batching import BatchingError, BatchingRules
from vae_tf.export.cli_tool import run_saved_model_cli
from vae_tf.export.layout import ASSETS_EXTRA, REFERENCE_FILE, WARMUP_FILE

SIGNATURE = "serving_default"
# saved_model_warmup_util.h: WarmupConsts::kMaxNumRecords.
MAX_WARMUP_RECORDS = 1000
# The only vae_tf modules this process may import: the lazy packages that
# `python -m` passes through, the TF-free layout and batching rules, and
# this module.
LAUNCHER = ("vae_tf", "vae_tf._internal", "vae_tf._internal.lazy",
            "vae_tf.export",
            "vae_tf.export.batching", "vae_tf.export.cli_tool",
            "vae_tf.export.layout",
            "vae_tf.export.fresh_load", "__main__")


def server_json(session_config=None, batching: Optional[BatchingRules] = None,
                warmup: bool = True, warmup_iterations: int = 1) -> str:
    """The SERVER_JSON argument for the server to emulate."""
    return json.dumps({
        "session_config": (None if session_config is None else
                           session_config.SerializeToString().hex()),
        "batching": None if batching is None else batching.to_dict(),
        "warmup": bool(warmup),
        "warmup_iterations": int(warmup_iterations),
    })


def _max_abs_diff(outputs: dict, reference: dict) -> float:
    return max((float(np.max(np.abs(outputs[k] - reference[k]), initial=0))
                for k in outputs), default=0.0)


def _references(path: str) -> dict:
    """`{signature: {name: array}}` of `vae_tf_reference.npz`."""
    stored = np.load(os.path.join(path, ASSETS_EXTRA, REFERENCE_FILE))
    out: dict = {}
    for key in stored.files:
        signature, name = key.split("/", 1)
        out.setdefault(signature, {})[name] = stored[key]
    return out


def _split_io(fn, values: dict) -> tuple[dict, dict]:
    """A reference's `(inputs, expected outputs)` for signature `fn`."""
    names = set(fn.structured_input_signature[1])
    return ({k: v for k, v in values.items() if k in names},
            {k: v for k, v in values.items() if k not in names})


def _eager(loaded, references: dict) -> dict:
    diffs = {}
    for signature, values in sorted(references.items()):
        fn = loaded.signatures[signature]
        feeds, expected = _split_io(fn, values)
        outputs = {k: v.numpy() for k, v in fn(
            **{k: tf.constant(v) for k, v in feeds.items()}).items()}
        diffs[signature] = _max_abs_diff(
            {k: outputs[k] for k in expected}, expected)
    return {"eager_max_abs_diff": max(diffs.values()),
            "eager_diffs": diffs,
            "outputs": sorted(_split_io(loaded.signatures[SIGNATURE],
                                        references[SIGNATURE])[1])}


class ServerSession:
    """A TF1 session on the export, run as TF Serving runs a request:
    through the batching session's rules when `rules` is set."""

    def __init__(self, sess, meta, rules: Optional[BatchingRules]):
        self.sess, self.meta, self.rules = sess, meta, rules

    def _run_batch(self, signature: str, feeds: dict) -> dict:
        sig = self.meta.signature_def[signature]
        feed = {sig.inputs[k].name: v for k, v in feeds.items()}
        fetch = {k: sig.outputs[k].name for k in sig.outputs}
        return self.sess.run(fetch, feed)

    def run(self, signature: str, feeds: dict) -> dict:
        """One request, as the server runs it alone."""
        return self.run_merged(signature, [feeds])[0]

    def run_merged(self, signature: str, requests: list) -> list:
        """Several requests to `signature` merged into one batch (one
        request: alone), each request's outputs back."""
        if self.rules is None:
            return [self._run_batch(signature, r) for r in requests]
        if len(requests) == 1:
            return [self.rules.run(
                lambda feeds: self._run_batch(signature, feeds),
                requests[0])]
        merged, sizes, padded = self.rules.merge(requests)
        return self.rules.split(self._run_batch(signature, merged), sizes,
                                padded)


def _tf1_session(path: str, references: dict, warmup: list, server: dict,
                 result: dict) -> None:
    config = None
    if server["session_config"]:
        config = tf.compat.v1.ConfigProto.FromString(
            bytes.fromhex(server["session_config"]))
    rules = (None if server["batching"] is None
             else BatchingRules.from_dict(server["batching"]))
    with tf.Graph().as_default(), \
            tf.compat.v1.Session(config=config) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        session = ServerSession(sess, meta, rules)
        diffs, errors = {}, {}
        for signature, values in sorted(references.items()):
            inputs = set(meta.signature_def[signature].inputs)
            feeds = {k: v for k, v in values.items() if k in inputs}
            expected = {k: v for k, v in values.items() if k not in inputs}
            try:
                outputs = session.run(signature, feeds)
            except (BatchingError, tf.errors.OpError) as err:
                errors[signature] = _first_cause(err)
                continue
            diffs[signature] = _max_abs_diff(
                {k: outputs[k] for k in expected}, expected)
        result["tf1_diffs"] = diffs
        result["tf1_errors"] = errors
        result["tf1_max_abs_diff"] = max(diffs.values(), default=0.0)
        if server["warmup"]:
            result.update(_replay(session, warmup,
                                  server["warmup_iterations"]))
        if rules is not None:
            result["batching"] = _batching(meta, session, references)


def _replay(session: ServerSession, warmup: list, iterations: int) -> dict:
    """The server's warmup at load: every record `iterations` times; the
    first failure fails the load."""
    run = 0
    for index, (name, inputs) in enumerate(warmup):
        try:
            for _ in range(iterations):
                session.run(name, inputs)
        except (BatchingError, tf.errors.OpError) as err:
            return {"tf1_warmup_requests_run": run,
                    "tf1_warmup_error":
                        f"record {index} ({name}): {_first_cause(err)}"}
        run += 1
    return {"tf1_warmup_requests_run": run}


def _batchable_specs(meta) -> list[str]:
    """Inputs/outputs whose SignatureDef shape lacks a dynamic dimension
    0 (the server's batching needs one on every tensor)."""
    problems = []
    for name, sig in sorted(meta.signature_def.items()):
        if name.startswith("__"):
            continue
        for side, infos in (("input", sig.inputs), ("output", sig.outputs)):
            for key, info in sorted(infos.items()):
                dims = [d.size for d in info.tensor_shape.dim]
                if info.tensor_shape.unknown_rank:
                    continue
                if not dims:
                    problems.append(f"{name}: {side} {key} is a scalar "
                                    "(rank 0); batching needs a batch "
                                    "dimension 0")
                elif dims[0] != -1:
                    problems.append(f"{name}: {side} {key} has a fixed "
                                    f"dimension 0 of {dims[0]}; batching "
                                    "needs it dynamic (the batch)")
    return problems


def _batching(meta, session: ServerSession, references: dict) -> dict:
    """Static shapes, then each signature's reference request cut in two
    requests, run apart and merged into one batch."""
    problems = _batchable_specs(meta)
    diffs = {}
    for signature, values in sorted(references.items()):
        inputs = set(meta.signature_def[signature].inputs)
        feeds = {k: np.asarray(v) for k, v in values.items() if k in inputs}
        if not feeds or any(v.ndim == 0 for v in feeds.values()):
            continue  # the static check above names rank-0 inputs
        rows = min(len(v) for v in feeds.values())
        if rows < 2:
            continue
        cut = max(1, min(rows, session.rules.execution_batch_size) // 3)
        end = min(rows, session.rules.execution_batch_size)
        first = {k: v[:cut] for k, v in feeds.items()}
        second = {k: v[cut:end] for k, v in feeds.items()}
        try:
            apart = [session.run(signature, first),
                     session.run(signature, second)]
            together = session.run_merged(signature, [first, second])
        except (BatchingError, tf.errors.OpError) as err:
            problems.append(f"{signature}: {_first_cause(err)}")
            continue
        diffs[signature] = max(_max_abs_diff(t, a)
                               for t, a in zip(together, apart))
    return {"problems": problems, "merged_vs_apart": diffs}


def _warmup_requests(path: str) -> tuple[list, list[str]]:
    """`([(signature, {input: array})], problems)` of the warmup file,
    read as the server reads it (`saved_model_warmup_util.cc`)."""
    from tensorflow_serving.apis import prediction_log_pb2

    file = os.path.join(path, ASSETS_EXTRA, WARMUP_FILE)
    if not os.path.isfile(file):
        return [], [f"no warmup file {ASSETS_EXTRA}/{WARMUP_FILE}"]
    requests, problems = [], []
    for index, record in enumerate(tf.data.TFRecordDataset(file)):
        if index >= MAX_WARMUP_RECORDS:
            problems.append("Number of warmup records exceeds the maximum "
                            f"({MAX_WARMUP_RECORDS})")
            break
        try:
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        except Exception:  # protobuf's DecodeError and friends
            problems.append(f"Failed to parse warmup record {index}")
            continue
        if log.WhichOneof("log_type") != "predict_log":
            problems.append(f"record {index}: a {log.WhichOneof('log_type')}"
                            "; this export's records are Predict requests")
            continue
        request = log.predict_log.request
        requests.append((
            request.model_spec.signature_name or SIGNATURE,
            {k: tf.make_ndarray(v) for k, v in request.inputs.items()}))
    return requests, problems


def _check_requests(loaded, requests: list) -> list[str]:
    """predict_util.cc's checks of a request against its signature: the
    signature exists, the inputs are exactly its inputs, dtypes match."""
    problems = []
    for index, (name, inputs) in enumerate(requests):
        if name not in loaded.signatures:
            problems.append(f'record {index}: Serving signature key "{name}"'
                            " not found.")
            continue
        spec = loaded.signatures[name].structured_input_signature[1]
        if sorted(inputs) != sorted(spec):
            problems.append(
                f"record {index} ({name}): input size does not match "
                f"signature: inputs {sorted(inputs)}, signature "
                f"{sorted(spec)}")
            continue
        for key, value in inputs.items():
            if tf.as_dtype(value.dtype) != spec[key].dtype:
                problems.append(
                    f"record {index} ({name}): input {key} is "
                    f"{value.dtype}, the signature takes "
                    f"{spec[key].dtype.name}")
    return problems


def _first_cause(err: BaseException) -> str:
    """The earliest TensorFlow error in the chain, on one line (the
    loader's own ValueError hides e.g. a bad session config)."""
    while err.__context__ is not None:
        err = err.__context__
    message = getattr(err, "message", None) or str(err)
    return f"{type(err).__name__}: {message.strip().splitlines()[0]}"


def _warmup_eager(loaded, warmup: list) -> dict:
    for name, inputs in warmup:
        loaded.signatures[name](**{k: tf.constant(v)
                                   for k, v in inputs.items()})
    return {"warmup_requests_run": len(warmup)}


def check(path: str, server: Optional[dict] = None) -> dict:
    """The loads of the version at `path`, as a JSON-ready dict; `server`
    is `json.loads(server_json(...))` (default: TF Serving's defaults).
    `vae_tf_modules` lists any vae_tf module imported beyond the launcher
    (it must stay empty)."""
    server = server or json.loads(server_json())
    references = _references(path)
    loaded = tf.saved_model.load(path)
    warmup, problems = _warmup_requests(path)  # read here: tf.data is eager
    problems += _check_requests(loaded, warmup)
    result = _eager(loaded, references)
    result["warmup_records"] = len(warmup)
    result["warmup_problems"] = problems
    result["warmup_on"] = server["warmup"]
    if not problems:
        result.update(_warmup_eager(loaded, warmup))
    try:
        _tf1_session(path, references, [] if problems else warmup, server,
                     result)
    except (tf.errors.OpError, ValueError) as err:
        result["tf1_error"] = _first_cause(err)
    result["vae_tf_modules"] = sorted(
        m for m in sys.modules
        if m.split(".")[0] == "vae_tf" and m not in LAUNCHER)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vae_tf.export.fresh_load",
        description="Loads an exported version as its consumers do and "
                    "prints one RESULT {json} line.")
    parser.add_argument("version_dir")
    parser.add_argument("server_json", nargs="?")
    parser.add_argument(
        "--cli", action="append", default=[], metavar="ARGS_JSON",
        help="a JSON list of saved_model_cli arguments to run in this "
             "process after the loads (repeatable); their outputs are "
             "under the result's `saved_model_cli`")
    args = parser.parse_args(argv)
    server = json.loads(args.server_json) if args.server_json else None
    code = 0
    try:
        result = check(args.version_dir, server)
    except Exception as err:  # still run the CLI: its checks stand alone
        traceback.print_exc()
        result, code = {"error": _first_cause(err)}, 1
    result["saved_model_cli"] = [run_saved_model_cli(json.loads(a))
                                 for a in args.cli]
    print("RESULT " + json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
