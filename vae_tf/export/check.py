"""`check_export(path)`: verify an exported SavedModel the way servers see it.

Checks, each reported with a detail line:

a. the signatures in `saved_model.pb` (what TF Serving's C++ loader reads)
   are those recorded in `assets.extra/vae_tf.json`, with the same
   input/output names, dtypes and shapes, and `saved_model_cli show --all`
   lists them;
b. `saved_model_cli run` of `serving_default` produces its outputs;
c. a fresh Python process that imports none of vae_tf's layers or models
   (`python -m vae_tf.export.fresh_load`) loads the model with
   `tf.saved_model.load`, and its outputs match the Keras model's
   (`assets.extra/vae_tf_reference.npz`) within `atol`;
d. in the same process, a TF1 session load
   (`tf.compat.v1.saved_model.loader.load`, TF Serving's C++ path) runs the
   signature tensors with the same results, in a session configured as
   the platform config (h) says when one is given;
e. a TF Serving `models.config` parses and every base path it names exists
   (container paths under `/models/` map to the local `base` folder);
f. the warmup file parses and every request in it runs, eagerly and in
   that TF1 session;
g. where the version holds a `model.tflite` (`vae-tf export --tflite`), it
   runs and matches the Keras decoder's reference outputs within `atol`;
h. a TF Serving `platform_config.txt` (`--platform_config_file`) parses
   and holds the `tensorflow` platform's session config, which (d) and (f)
   then run under.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
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
_FRESH = ("c. fresh tf.saved_model.load", "d. TF1 session load",
          "f. warmup requests")


@dataclasses.dataclass
class Check:
    """One named verification step."""

    name: str
    ok: bool
    detail: str


def saved_model_cli() -> list[str]:
    """The `saved_model_cli` command (the script, or TF's module)."""
    found = shutil.which("saved_model_cli")
    if found:
        return [found]
    return [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **kwargs.pop("env", {}))
    return subprocess.run(command, capture_output=True, text=True, env=env,
                          **kwargs)


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1]


def check_export(
    path: str,
    models_config: Optional[str] = None,
    base: Optional[str] = None,
    atol: float = 1e-5,
    platform_config: Optional[str] = None,
) -> list[Check]:
    """Runs checks a-h on one exported model; returns every result.

    Args:
        path: a version directory, or a model base path (newest version).
        models_config: a TF Serving `models.config` to check (e).
        base: local folder that `/models/` in `models_config` stands for;
            default: the parent of the model base path.
        atol: tolerance of (c) and (d).
        platform_config: a TF Serving platform config to check (h) and
            to run (d) and (f) under.
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
    checks = [_check_signatures(path, metadata),
              _check_cli_run(path, metadata["signatures"][SERVING_DEFAULT])]
    session = None
    if platform_config is not None:
        platform, session = _check_platform_config(platform_config)
    checks += _check_fresh_process(path, atol, session)
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


def proto_signatures(path: str) -> dict:
    """The signatures recorded in `path/saved_model.pb`: `{signature:
    {"inputs"|"outputs": {name: {"dtype": "DT_FLOAT", "shape": [-1, 16]}}}}`
    (-1: a dynamic size)."""
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    meta = next(m for m in proto.meta_graphs
                if "serve" in m.meta_info_def.tags)

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


def _check_signatures(path: str, metadata: dict) -> Check:
    """(a) saved_model.pb's signatures = vae_tf.json's; the CLI lists them."""
    name = "a. signatures (saved_model.pb, saved_model_cli show)"
    try:
        found = proto_signatures(path)
    except Exception as err:  # a truncated or foreign saved_model.pb
        return Check(name, False, f"cannot read saved_model.pb: {err}")
    expected = _expected_specs(metadata)
    if found != expected:
        return Check(name, False,
                     f"expected {expected}, saved_model.pb has {found}")
    show = _run(saved_model_cli() + ["show", "--all", "--dir", path])
    unlisted = [s for s in found if f"signature_def['{s}']" not in show.stdout]
    if show.returncode != 0 or unlisted:
        return Check(name, False, f"saved_model_cli show --all does not list "
                     f"{unlisted or sorted(found)}: {_last_line(show.stderr)}")
    return Check(name, True, _describe(found))


def _check_cli_run(path: str, spec: dict) -> Check:
    """(b) `saved_model_cli run` on all-zero inputs saved as .npy files."""
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for k, v in spec["inputs"].items():
            shape = [1 if d is None else d for d in v["shape"]]
            np.save(os.path.join(tmp, f"{k}.npy"), np.zeros(shape, v["dtype"]))
            args.append(f"{k}={os.path.join(tmp, k + '.npy')}")
        run = _run(saved_model_cli() + [
            "run", "--dir", path, "--tag_set", "serve",
            "--signature_def", SERVING_DEFAULT, "--inputs", ";".join(args),
        ])
    outputs = sorted(spec["outputs"])
    ok = run.returncode == 0 and all(
        f"Result for output key {k}" in run.stdout for k in outputs
    )
    return Check("b. saved_model_cli run", ok,
                 f"outputs {outputs} produced" if ok
                 else _last_line(run.stderr))


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
    """(h): the check and the parsed `ServingSessionConfig` (None if it
    does not parse)."""
    from vae_tf.export.platform_config import (PlatformConfigError,
                                               read_platform_config)

    name = "h. platform config"
    try:
        session = read_platform_config(path)
    except PlatformConfigError as err:
        return Check(name, False, str(err)), None
    return Check(name, True, f"{path}: {session.describe()}"), session


def _check_fresh_process(path: str, atol: float,
                         session=None) -> list[Check]:
    """(c, d, f) by `python -m vae_tf.export.fresh_load` (this vae_tf on
    its path, the working directory not); `session`: the platform
    config's session settings for (d) and (f)."""
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    python_path = os.pathsep.join(
        p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    command = [sys.executable, "-P", "-m", "vae_tf.export.fresh_load", path]
    where = "default session"
    if session is not None:
        command.append(session.session_config.SerializeToString().hex())
        where = "platform config's session"
    fresh = _run(command, env={"PYTHONPATH": python_path})
    line = next((ln for ln in fresh.stdout.splitlines()
                 if ln.startswith("RESULT ")), None)
    if fresh.returncode != 0 or line is None:
        return [Check(n, False, _last_line(fresh.stderr)) for n in _FRESH]
    res = json.loads(line[len("RESULT "):])
    clean = not res["vae_tf_modules"]
    eager = Check(
        _FRESH[0], clean and res["eager_max_abs_diff"] <= atol,
        f"max abs diff vs Keras {res['eager_max_abs_diff']:.3g} (outputs "
        f"{res['outputs']}; vae_tf layers/models imported: "
        f"{res['vae_tf_modules'] or 'none'})")
    if "tf1_error" in res:  # the eager load worked, the session did not
        failed = f"the {where} failed: {res['tf1_error']}"
        return [eager, Check(_FRESH[1], False, failed),
                Check(_FRESH[2], False, failed)]
    return [
        eager,
        Check(_FRESH[1], res["tf1_max_abs_diff"] <= atol,
              f"max abs diff vs Keras {res['tf1_max_abs_diff']:.3g} "
              f"({where})"),
        Check(_FRESH[2], res["warmup_requests_run"] > 0
              and res["tf1_warmup_requests_run"] > 0,
              f"{res['warmup_requests_run']} requests parsed and run "
              f"eagerly, {res['tf1_warmup_requests_run']} in the {where}"),
    ]


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
