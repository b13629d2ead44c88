"""`check_export(path)`: verify an exported SavedModel the way servers see it.

Checks, each reported with a detail line:

a. `saved_model_cli show --all` lists the signatures recorded in
   `assets.extra/vae_tf.json`, with the same input/output names, dtypes
   and shapes;
b. `saved_model_cli run` of `serving_default` produces its outputs;
c. a fresh Python process that never imports vae_tf loads the model with
   `tf.saved_model.load`, and its outputs match the Keras model's
   (`assets.extra/vae_tf_reference.npz`) within `atol`;
d. in the same process, a TF1 session load
   (`tf.compat.v1.saved_model.loader.load`, TF Serving's C++ path) runs the
   signature tensors with the same results;
e. a TF Serving `models.config` parses and every base path it names exists
   (container paths under `/models/` map to the local `base` folder);
f. the warmup file parses and every request in it runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Optional

import numpy as np

from vae_tf.export import (ASSETS_EXTRA, METADATA_FILE, REFERENCE_FILE,
                           SERVING_DEFAULT, WARMUP_FILE, versions)

SERVING_MOUNT = "/models/"

# Runs in a separate interpreter (`python -I`, so neither the working
# directory nor vae_tf's folder is on sys.path). Prints one JSON line.
_FRESH_PROCESS = r"""
import json, sys
import numpy as np
import tensorflow as tf

path, reference_path, warmup_path = sys.argv[1:4]
ref = dict(np.load(reference_path))
sig_inputs = {k.split("/", 1)[1]: v for k, v in ref.items()
              if k.startswith("serving_default/")}
result = {}
loaded = tf.saved_model.load(path)
fn = loaded.signatures["serving_default"]
names_in = set(fn.structured_input_signature[1])
feeds = {k: v for k, v in sig_inputs.items() if k in names_in}
outs = {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in feeds.items()}).items()}
result["eager_max_abs_diff"] = max(
    float(np.max(np.abs(outs[k] - sig_inputs[k]))) for k in outs)
result["outputs"] = sorted(outs)

with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    sig = meta.signature_def["serving_default"]
    feed = {sig.inputs[k].name: v for k, v in feeds.items()}
    fetch = {k: sig.outputs[k].name for k in sig.outputs}
    tf1 = sess.run(fetch, feed)
result["tf1_max_abs_diff"] = max(
    float(np.max(np.abs(tf1[k] - sig_inputs[k]))) for k in tf1)

from tensorflow_serving.apis import prediction_log_pb2
ran = 0
for record in tf.data.TFRecordDataset(warmup_path):
    log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
    request = log.predict_log.request
    fn = loaded.signatures[request.model_spec.signature_name or "serving_default"]
    args = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
    fn(**args)
    ran += 1
result["warmup_requests_run"] = ran
result["vae_tf_imported"] = any(m.split(".")[0] == "vae_tf" for m in sys.modules)
print("RESULT " + json.dumps(result))
"""


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


def _env() -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def resolve_version_dir(path: str) -> str:
    """A model base path resolves to its newest version directory."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    found = versions(path)
    if not found:
        raise FileNotFoundError(
            f"{path} is neither a SavedModel (no saved_model.pb) nor a model "
            "base path with integer version folders."
        )
    return os.path.join(path, str(found[-1]))


def parse_show_all(text: str) -> dict:
    """`saved_model_cli show --all` output -> {signature: {inputs, outputs}}.

    Each input/output maps to `{"dtype": "DT_FLOAT", "shape": [-1, 16]}`.
    """
    out, current, side = {}, None, None
    for line in text.splitlines():
        m = re.match(r"signature_def\['([^']+)'\]:", line.strip())
        if m:
            current = out.setdefault(m.group(1), {"inputs": {}, "outputs": {}})
            continue
        if "contains the following input(s)" in line:
            side = "inputs"
        elif "contains the following output(s)" in line:
            side = "outputs"
        m = re.match(r"\s*(inputs|outputs)\['([^']+)'\] tensor_info:", line)
        if m and current is not None:
            entry = current[side].setdefault(m.group(2), {})
            continue
        m = re.match(r"\s*dtype: (\w+)", line)
        if m and current is not None and side and current[side]:
            list(current[side].values())[-1]["dtype"] = m.group(1)
        m = re.match(r"\s*shape: (.*)", line)
        if m and current is not None and side and current[side]:
            shape = m.group(1).strip()
            entry = list(current[side].values())[-1]
            if shape == "()":
                entry["shape"] = []
            elif shape.startswith("("):
                entry["shape"] = [
                    int(d) for d in shape.strip("(),").split(",") if d.strip()
                ]
            else:
                entry["shape"] = shape
    out.pop("__saved_model_init_op", None)
    return out


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


def _expected_cli_specs(metadata: dict) -> dict:
    tf_names = {"float32": "DT_FLOAT", "int32": "DT_INT32",
                "int64": "DT_INT64"}
    out = {}
    for sig, spec in metadata["signatures"].items():
        out[sig] = {
            side: {
                k: {"dtype": tf_names.get(v["dtype"], v["dtype"]),
                    "shape": [-1 if d is None else d for d in v["shape"]]}
                for k, v in spec[side].items()
            }
            for side in ("inputs", "outputs")
        }
    return out


def check_export(
    path: str,
    models_config: Optional[str] = None,
    base: Optional[str] = None,
    atol: float = 1e-5,
) -> list[Check]:
    """Runs checks a-f on one exported model; returns every result.

    Args:
        path: a version directory, or a model base path (newest version).
        models_config: a TF Serving `models.config` to check (e).
        base: local folder that `/models/` in `models_config` stands for;
            default: the parent of the model base path.
        atol: tolerance of (c) and (d).
    """
    path = resolve_version_dir(path)
    checks: list[Check] = []
    extra = os.path.join(path, ASSETS_EXTRA)
    if not os.path.isdir(os.path.join(path, "variables")):
        return [Check("layout", False, f"{path} has no variables/ folder")]
    try:
        with open(os.path.join(extra, METADATA_FILE), encoding="utf-8") as f:
            metadata = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        return [Check("metadata", False, f"cannot read {METADATA_FILE}: {err}")]

    # (a) saved_model_cli show --all
    show = subprocess.run(
        saved_model_cli() + ["show", "--all", "--dir", path],
        capture_output=True, text=True, env=_env(),
    )
    if show.returncode != 0:
        checks.append(Check("a. saved_model_cli show", False,
                            show.stderr.strip().splitlines()[-1:]))
    else:
        found = parse_show_all(show.stdout)
        expected = _expected_cli_specs(metadata)
        ok = found == expected
        detail = (
            _describe(found) if ok
            else f"expected {expected}, saved_model_cli shows {found}"
        )
        checks.append(Check("a. saved_model_cli show", ok, detail))

    # (b) saved_model_cli run, on all-zero inputs saved as .npy files
    spec = metadata["signatures"][SERVING_DEFAULT]
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for k, v in spec["inputs"].items():
            shape = [1 if d is None else d for d in v["shape"]]
            np.save(os.path.join(tmp, f"{k}.npy"), np.zeros(shape, v["dtype"]))
            args.append(f"{k}={os.path.join(tmp, k + '.npy')}")
        run = subprocess.run(
            saved_model_cli() + [
                "run", "--dir", path, "--tag_set", "serve",
                "--signature_def", SERVING_DEFAULT, "--inputs", ";".join(args),
            ],
            capture_output=True, text=True, env=_env(),
        )
    outputs = sorted(spec["outputs"])
    ok = run.returncode == 0 and all(
        f"Result for output key {k}" in run.stdout for k in outputs
    )
    checks.append(Check(
        "b. saved_model_cli run", ok,
        f"outputs {outputs} produced" if ok
        else (run.stderr.strip().splitlines() or ["no output"])[-1],
    ))

    # (c, d, f) in a fresh interpreter that never imports vae_tf
    fresh = subprocess.run(
        [sys.executable, "-I", "-c", _FRESH_PROCESS, path,
         os.path.join(extra, REFERENCE_FILE), os.path.join(extra, WARMUP_FILE)],
        capture_output=True, text=True, env=_env(),
    )
    line = next(
        (ln for ln in fresh.stdout.splitlines() if ln.startswith("RESULT ")),
        None,
    )
    if fresh.returncode != 0 or line is None:
        tail = (fresh.stderr.strip().splitlines() or ["no output"])[-1]
        for name in ("c. fresh tf.saved_model.load", "d. TF1 session load",
                     "f. warmup requests"):
            checks.append(Check(name, False, tail))
    else:
        res = json.loads(line[len("RESULT "):])
        clean = not res["vae_tf_imported"]
        checks.append(Check(
            "c. fresh tf.saved_model.load",
            clean and res["eager_max_abs_diff"] <= atol,
            f"max abs diff vs Keras {res['eager_max_abs_diff']:.3g} "
            f"(outputs {res['outputs']}; vae_tf imported: "
            f"{res['vae_tf_imported']})",
        ))
        checks.append(Check(
            "d. TF1 session load", res["tf1_max_abs_diff"] <= atol,
            f"max abs diff vs Keras {res['tf1_max_abs_diff']:.3g}",
        ))
        checks.append(Check(
            "f. warmup requests", res["warmup_requests_run"] > 0,
            f"{res['warmup_requests_run']} requests parsed and run",
        ))

    # (e) models.config
    if models_config is not None:
        model_base = os.path.dirname(path)
        checks.append(check_models_config(
            models_config, base or os.path.dirname(model_base),
            must_name=os.path.basename(model_base),
        ))
    return checks


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
