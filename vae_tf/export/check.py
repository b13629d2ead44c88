"""`check_export(path)`: verify an exported SavedModel the way servers see it.

Checks, each reported with a detail line:

a. the signatures in `saved_model.pb` (what TF Serving's C++ loader reads)
   are those recorded in `assets.extra/vae_tf.json`, with the same
   input/output names, dtypes and shapes, and `saved_model_cli show --all`
   lists them;
b. `saved_model_cli run` of `serving_default` produces its outputs (a and
   b run TensorFlow's tool in the fresh process of c, after its loads:
   one TensorFlow start per check);
c. a fresh Python process that imports none of vae_tf's layers or models
   (`python -m vae_tf.export.fresh_load`) loads the model with
   `tf.saved_model.load`, and every signature's outputs match the Keras
   model's (`assets.extra/vae_tf_reference.npz`) within `atol`;
d. in the same process, a TF1 session load
   (`tf.compat.v1.saved_model.loader.load`, TF Serving's C++ path) runs
   every signature's reference request as the server would (in a session
   configured as the platform config (h) says, through its batching rules
   when it batches) with the same results;
e. a TF Serving `models.config` parses and every base path it names exists
   (container paths under `/models/` map to the local `base` folder);
f. the warmup file is read as the server reads it (Predict records, at
   most 1,000, inputs named and typed as their signature's) and every
   record runs eagerly and, when the server's warmup is on (always
   without a platform config; `enable_model_warmup` with one), replayed
   in that TF1 session as the server replays it at load;
g. where the version holds a `model.tflite` (`vae-tf export --tflite`), it
   runs and matches the Keras decoder's reference outputs within `atol`;
h. a TF Serving `platform_config.txt` (`--platform_config_file`) parses
   with every field the server accepts, holds the `tensorflow` platform's
   SavedModel config, and its batching parameters pass the server's load
   rules (`max_batch_size` / `allowed_batch_sizes` / threads);
i. when that file turns batching on: every signature's inputs and outputs
   have a dynamic batch dimension 0 (TF Serving's batching refuses rank-0
   inputs and splits outputs along dimension 0), and two requests merged
   into one batch get the same outputs as run apart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from typing import Optional

import numpy as np

from vae_tf.export.archives import SERVING_DEFAULT
from vae_tf.export.assets import METADATA_FILE
from vae_tf.export.layout import (ASSETS_EXTRA, TFLITE_FILE,
                                  resolve_version_dir, versions)

SERVING_MOUNT = "/models/"
# The deployment files `vae-tf check-export` checks when run in a checkout.
DEFAULT_MODELS_CONFIG = os.path.join("serving", "models.config")
DEFAULT_PLATFORM_CONFIG = os.path.join("serving", "platform_config.txt")
_FRESH = ("c. fresh tf.saved_model.load", "d. TF1 session load",
          "f. warmup requests")
BATCHING = "i. batching"


@dataclasses.dataclass
class Check:
    """One named verification step."""

    name: str
    ok: bool
    detail: str


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1]


def check_export(
    path: str,
    models_config: Optional[str] = None,
    base: Optional[str] = None,
    atol: float = 1e-5,
    platform_config: Optional[str] = None,
) -> list[Check]:
    """Runs checks a-i on one exported model; returns every result.

    Args:
        path: a version directory, or a model base path (newest version).
        models_config: a TF Serving `models.config` to check (e).
        base: local folder that `/models/` in `models_config` stands for;
            default: the parent of the model base path.
        atol: tolerance of (c), (d) and (i).
        platform_config: a TF Serving platform config to check (h) and
            to run (d), (f) and (i) under; without one, (d) and (f) run
            as the server does without the flag (default session, no
            batching, warmup on).
    """
    path = resolve_version_dir(path)
    if not os.path.isdir(os.path.join(path, "variables")):
        return [Check("layout", False, f"{path} has no variables/ folder")]
    try:
        with open(os.path.join(path, ASSETS_EXTRA, METADATA_FILE),
                  encoding="utf-8") as f:
            metadata = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        return [Check("metadata", False,
                      f"cannot read {METADATA_FILE}: {err}")]
    server = None
    if platform_config is not None:
        platform, server = _check_platform_config(platform_config)
    spec = metadata["signatures"][SERVING_DEFAULT]
    with tempfile.TemporaryDirectory() as tmp:
        show = ["show", "--all", "--dir", path]
        res = _run_fresh(path, server, [show, _cli_run_args(path, spec, tmp)])
    show, run = res.pop("saved_model_cli")
    checks = [_check_signatures(path, metadata, show),
              _check_cli_run(spec, run)]
    checks += _check_fresh_process(res, atol, server)
    if os.path.isfile(os.path.join(path, TFLITE_FILE)):
        checks.append(_check_tflite(path, atol))
    if models_config is not None:
        model_base = os.path.dirname(path)
        checks.append(check_models_config(
            models_config, base or os.path.dirname(model_base),
            must_name=os.path.basename(model_base),
        ))
    if platform_config is not None:
        checks.append(platform)
    return checks


def serving_files(models_config: Optional[str] = None,
                  platform_config: Optional[str] = None
                  ) -> tuple[Optional[str], Optional[str]]:
    """The `models.config` and platform config to check: each as given,
    else the project's `serving/` file when it exists here, else None."""
    def pick(given, default):
        if given is None and os.path.isfile(default):
            return default
        return given

    return (pick(models_config, DEFAULT_MODELS_CONFIG),
            pick(platform_config, DEFAULT_PLATFORM_CONFIG))


def serve_meta_graph(path: str):
    """The `serve`-tagged `MetaGraphDef` of `path/saved_model.pb`, read as
    a proto (no graph is loaded)."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return next(m for m in proto.meta_graphs
                if "serve" in m.meta_info_def.tags)


def graph_nodes(path: str) -> list:
    """Every `NodeDef` of the SavedModel at `path`: its graph's and those
    of its functions (where the signatures' ops live)."""
    graph = serve_meta_graph(path).graph_def
    return [*graph.node, *(node for function in graph.library.function
                           for node in function.node_def)]


def proto_signatures(path: str) -> dict:
    """The signatures recorded in `path/saved_model.pb`: `{signature:
    {"inputs"|"outputs": {name: {"dtype": "DT_FLOAT", "shape": [-1, 16]}}}}`
    (-1: a dynamic size)."""
    from tensorflow.core.framework import types_pb2

    meta = serve_meta_graph(path)

    def spec(info) -> dict:
        return {"dtype": types_pb2.DataType.Name(info.dtype),
                "shape": [d.size for d in info.tensor_shape.dim]}

    return {
        name: {"inputs": {k: spec(v) for k, v in sig.inputs.items()},
               "outputs": {k: spec(v) for k, v in sig.outputs.items()}}
        for name, sig in meta.signature_def.items()
        if name != "__saved_model_init_op"
    }


def _expected_specs(metadata: dict) -> dict:
    """`vae_tf.json`'s signatures in `proto_signatures`' spelling."""
    tf_names = {"float32": "DT_FLOAT", "int32": "DT_INT32",
                "int64": "DT_INT64"}
    return {
        sig: {
            side: {
                k: {"dtype": tf_names.get(v["dtype"], v["dtype"]),
                    "shape": [-1 if d is None else d for d in v["shape"]]}
                for k, v in spec[side].items()
            }
            for side in ("inputs", "outputs")
        }
        for sig, spec in metadata["signatures"].items()
    }


def _describe(specs: dict) -> str:
    """`sig(input:DT_FLOAT[-1, 4]) -> out1, out2` for each signature."""
    parts = []
    for sig, spec in sorted(specs.items()):
        inputs = ", ".join(
            f"{k}:{v['dtype']}{v['shape']}" for k, v in spec["inputs"].items()
        )
        outputs = ", ".join(
            f"{k}:{v['dtype']}{v['shape']}"
            for k, v in sorted(spec["outputs"].items())
        )
        parts.append(f"{sig}({inputs}) -> {outputs}")
    return "; ".join(parts)


def _check_signatures(path: str, metadata: dict,
                      show: dict) -> Check:
    """(a) saved_model.pb's signatures = vae_tf.json's; `show` (the
    finished `saved_model_cli show --all`) lists them."""
    name = "a. signatures (saved_model.pb, saved_model_cli show)"
    try:
        found = proto_signatures(path)
    except Exception as err:  # a truncated or foreign saved_model.pb
        return Check(name, False, f"cannot read saved_model.pb: {err}")
    expected = _expected_specs(metadata)
    if found != expected:
        return Check(name, False,
                     f"expected {expected}, saved_model.pb has {found}")
    unlisted = [s for s in found
                if f"signature_def['{s}']" not in show["stdout"]]
    if show["returncode"] != 0 or unlisted:
        return Check(name, False, "saved_model_cli show --all does not "
                     f"list {unlisted or sorted(found)}: "
                     f"{_last_line(show['stderr'])}")
    return Check(name, True, _describe(found))


def _cli_run_args(path: str, spec: dict, folder: str) -> list[str]:
    """`saved_model_cli run` arguments for `serving_default` on all-zero
    inputs saved as .npy files in `folder`."""
    args = []
    for k, v in spec["inputs"].items():
        shape = [1 if d is None else d for d in v["shape"]]
        np.save(os.path.join(folder, f"{k}.npy"), np.zeros(shape, v["dtype"]))
        args.append(f"{k}={os.path.join(folder, k + '.npy')}")
    return ["run", "--dir", path, "--tag_set", "serve",
            "--signature_def", SERVING_DEFAULT, "--inputs", ";".join(args)]


def _check_cli_run(spec: dict, run: dict) -> Check:
    """(b) from the finished `saved_model_cli run`."""
    outputs = sorted(spec["outputs"])
    ok = run["returncode"] == 0 and all(
        f"Result for output key {k}" in run["stdout"] for k in outputs
    )
    return Check("b. saved_model_cli run", ok,
                 f"outputs {outputs} produced" if ok
                 else _last_line(run["stderr"]))


def _check_tflite(path: str, atol: float) -> Check:
    """(g) `model.tflite` against the reference outputs."""
    from vae_tf.export.tflite import reference_diff

    name = f"g. {TFLITE_FILE}"
    try:
        with open(os.path.join(path, TFLITE_FILE), "rb") as f:
            diff = reference_diff(f.read(), path)
    except Exception as err:  # a corrupt flatbuffer raises many kinds
        return Check(name, False, f"does not run: {err}")
    return Check(name, diff <= atol, f"max abs diff vs Keras {diff:.3g}")


def _check_platform_config(path: str):
    """(h): the check and the parsed `ServingSessionConfig` (None if the
    server would not start or load with it)."""
    from vae_tf.export.platform_config import (PlatformConfigError,
                                               read_platform_config)

    name = "h. platform config"
    try:
        server = read_platform_config(path)
    except PlatformConfigError as err:
        return Check(name, False, str(err)), None
    rules = server.batching_rules
    errors = [] if rules is None else rules.load_errors()
    if errors:
        return Check(name, False, f"{path}: TF Serving would refuse to "
                     f"load a model with these batching_parameters: "
                     f"{'; '.join(errors)}"), None
    return Check(name, True, f"{path}: {server.describe()}"), server


def _run_fresh(path: str, server, cli: list[list[str]]) -> dict:
    """Runs `python -m vae_tf.export.fresh_load` (this vae_tf on its
    path, the working directory not) for the server `server` describes
    (a `ServingSessionConfig`, or None for TF Serving's defaults), with
    the `saved_model_cli` commands `cli` after its loads.

    Returns its RESULT dict: `{"error": ...}` in place of the loads'
    results if they raised, and one `saved_model_cli` entry per command
    (each the process's last stderr line if it died before printing).
    """
    from vae_tf.export.fresh_load import server_json

    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    python_path = os.pathsep.join(
        p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    command = [sys.executable, "-P", "-m", "vae_tf.export.fresh_load", path]
    if server is not None:
        command.append(server_json(
            server.session_config, server.batching_rules, server.warmup,
            server.warmup_iterations))
    for args in cli:
        command += ["--cli", json.dumps(args)]
    fresh = subprocess.run(
        command, capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                 PYTHONPATH=python_path))
    line = next((ln for ln in fresh.stdout.splitlines()
                 if ln.startswith("RESULT ")), None)
    if line is not None:
        return json.loads(line[len("RESULT "):])
    died = {"returncode": fresh.returncode or 1, "stdout": "",
            "stderr": fresh.stderr}
    return {"error": _last_line(fresh.stderr),
            "saved_model_cli": [dict(died, args=a) for a in cli]}


def _diffs(diffs: dict) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in sorted(diffs.items()))


def _check_fresh_process(res: dict, atol: float, server=None) -> list[Check]:
    """(c, d, f, and i when `server` batches) from the fresh process's
    result `res`."""
    names = list(_FRESH)
    batching = server is not None and server.batching is not None
    if batching:
        names.append(BATCHING)
    if "error" in res:
        return [Check(n, False, res["error"]) for n in names]
    where = ("platform config's session" if server is not None
             else "default session")
    clean = not res["vae_tf_modules"]
    checks = [Check(
        _FRESH[0], clean and res["eager_max_abs_diff"] <= atol,
        f"max abs diff vs Keras {_diffs(res['eager_diffs'])} (outputs "
        f"{res['outputs']}; vae_tf layers/models imported: "
        f"{res['vae_tf_modules'] or 'none'})")]
    if "tf1_error" in res:  # the eager load worked, the session did not
        failed = f"the {where} failed: {res['tf1_error']}"
        return checks + [Check(n, False, failed) for n in names[1:]]
    errors = res["tf1_errors"]
    checks.append(Check(
        _FRESH[1], not errors and res["tf1_max_abs_diff"] <= atol,
        "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())) if errors
        else f"max abs diff vs Keras {_diffs(res['tf1_diffs'])} ({where}"
             + (", through its batching rules)" if batching else ")")))
    checks.append(_warmup_check(res, where))
    if batching:
        checks.append(_batching_check(res["batching"], atol))
    return checks


def _warmup_check(res: dict, where: str) -> Check:
    """(f) from the fresh process's result."""
    name = _FRESH[2]
    if res["warmup_problems"]:
        return Check(name, False, "; ".join(res["warmup_problems"]))
    eager = (f"{res['warmup_records']} records parsed and run eagerly "
             f"({res['warmup_requests_run']})")
    if not res["warmup_on"]:
        return Check(name, True, f"{eager}; warmup is off in the platform "
                     "config (enable_model_warmup), so the server will not "
                     "replay them")
    if "tf1_warmup_error" in res:
        return Check(name, False, f"the server's warmup would fail the "
                     f"load: {res['tf1_warmup_error']}")
    return Check(name, res["warmup_records"] > 0,
                 f"{eager}, {res['tf1_warmup_requests_run']} replayed in "
                 f"the {where} as at the server's load")


def _batching_check(res: dict, atol: float) -> Check:
    """(i) from the fresh process's result."""
    diffs = res["merged_vs_apart"]
    worst = max(diffs.values(), default=0.0)
    if res["problems"] or worst > atol:
        return Check(BATCHING, False, "; ".join(res["problems"]) or
                     f"rows change when merged with another request: "
                     f"{_diffs(diffs)}")
    return Check(BATCHING, True, "every input and output has a dynamic "
                 "batch dimension 0; two requests merged vs apart, max abs "
                 f"diff {_diffs(diffs)}")


def check_models_config(
    path: str, base: str, must_name: Optional[str] = None
) -> Check:
    """(e): `path` parses as a ModelServerConfig; its base paths exist."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    name = "e. models.config"
    try:
        with open(path, encoding="utf-8") as f:
            config = text_format.Parse(
                f.read(), model_server_config_pb2.ModelServerConfig()
            )
    except (OSError, text_format.ParseError) as err:
        return Check(name, False, f"{path}: {err}")
    entries = config.model_config_list.config
    missing, names = [], []
    for entry in entries:
        names.append(entry.name)
        local = entry.base_path
        if local.startswith(SERVING_MOUNT):
            local = os.path.join(base, local[len(SERVING_MOUNT):])
        if not versions(local):
            missing.append(f"{entry.name}: {entry.base_path} -> {local}")
    if not entries:
        return Check(name, False, f"{path} lists no models")
    if missing:
        return Check(
            name, False, "base paths without a version: " + "; ".join(missing)
        )
    if must_name and must_name not in names:
        return Check(name, False, f"{path} does not serve {must_name!r}")
    return Check(name, True, f"{len(entries)} models ({', '.join(names)}), "
                 "every base path has a version")
