"""`pip install "vae_tf[client]"`: the TF Serving client without
TensorFlow, installed into a fresh virtual environment (no system site
packages) and run there against the stand-in servers."""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from serving_fakes import GrpcServer, RestServer

from repo import ROOT  # noqa: E402
HEAVY = ("tensorflow", "keras", "tf-keras", "tensorflow-serving-api",
         "tensorflow-probability", "tensorboard", "matplotlib")

# Run in the venv: the installed distributions, and the closure of
# vae_tf[client]'s requirements (pip's own `packaging` evaluates them).
_INSTALLED = """
import json, importlib.metadata as md
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name as name
installed = {name(d.metadata["Name"]): d for d in md.distributions()}
wanted, todo = set(), [("vae_tf", "client")]
while todo:
    dist, extra = todo.pop()
    if name(dist) in wanted and extra is None:
        continue
    wanted.add(name(dist))
    for text in installed[name(dist)].requires or []:
        req = Requirement(text)
        env = {"extra": extra or ""}
        if req.marker is None or req.marker.evaluate(env):
            todo.append((req.name, None))
            for e in req.extras:
                todo.append((req.name, e))
print(json.dumps({"installed": sorted(installed), "closure": sorted(wanted)}))
"""

_CALLS = """
import sys
import numpy as np
from vae_tf.client import GrpcClient, RestClient
z = np.load(sys.argv[3])
rest = RestClient("127.0.0.1", int(sys.argv[1]), timeout=60)
out = {"rest": rest.decode(z), "rest_sample": rest.sample(3, seed=5)}
out["rest_z"] = rest.encode(out["rest"], sample=True, seed=2)["z"]
with GrpcClient("127.0.0.1", int(sys.argv[2]), timeout=60) as client:
    out["grpc"] = client.decode(z)
    out["grpc_sample"] = client.sample(seeds=[5, 6, 7])
np.savez(sys.argv[4], **out)
heavy = [m for m in sys.modules if m.split(".")[0] in
         ("tensorflow", "keras", "tensorflow_serving")]
assert not heavy, heavy
"""


def _source_copy(target: pathlib.Path) -> pathlib.Path:
    """What `pip install .` reads, without the checkout's build litter."""
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "vae_tf", target / "vae_tf",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_client_extra_installs_and_calls_without_tensorflow(
        exported, tmp_path):
    """The extra pulls numpy, grpcio and protobuf (and what they need)
    and nothing else; the client then decodes, samples and encodes over
    REST and gRPC, and serving/client.py writes its PNG, with the same
    numbers as the client in this (TensorFlow) environment."""
    _, base = exported
    (tmp_path / "src").mkdir()
    source = _source_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                   timeout=300)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", f"{source}[client]"],
        capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    listing = json.loads(subprocess.run(
        [python, "-c", _INSTALLED], capture_output=True, text=True,
        check=True, timeout=120).stdout)
    installed, closure = set(listing["installed"]), set(listing["closure"])
    assert {"vae-tf", "numpy", "grpcio", "protobuf"} <= closure
    assert installed - {"pip", "setuptools"} == closure, (
        installed, closure)
    assert not [d for d in installed if d in HEAVY], installed
    # A published package: type hints marked (PEP 561), its licence text
    # in the distribution.
    shipped = subprocess.run(
        [python, "-c", "import importlib.metadata as md, importlib.util, "
         "os; spec = importlib.util.find_spec('vae_tf'); print(os.path."
         "isfile(os.path.join(os.path.dirname(spec.origin), 'py.typed')), "
         "any(f.name == 'LICENSE' for f in md.files('vae_tf')))"],
        capture_output=True, text=True, check=True, timeout=120,
        cwd=tmp_path)  # not the checkout, whose vae_tf would shadow it
    assert shipped.stdout.split() == ["True", "True"], shipped.stdout

    z = np.random.default_rng(3).standard_normal((2, 4)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    from vae_tf.client import GrpcClient, RestClient

    with RestServer(base) as rest, GrpcServer(base) as grpc:
        ran = subprocess.run(
            [python, "-c", _CALLS, str(rest.port), str(grpc.port),
             str(tmp_path / "z.npy"), str(tmp_path / "out.npz")],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr[-3000:]
        png = tmp_path / "faces.png"
        shown = subprocess.run(
            [python, str(ROOT / "serving" / "client.py"), "sample", "--num",
             "4", "--grpc", "--port", str(grpc.port), "--out", str(png)],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr[-3000:]
        here = RestClient("127.0.0.1", rest.port, timeout=60)
        expected = {"rest": here.decode(z),
                    "rest_sample": here.sample(3, seed=5),
                    "grpc_sample": here.sample(3, seed=5)}
        expected["grpc"] = expected["rest"]
        expected["rest_z"] = here.encode(expected["rest"], sample=True,
                                         seed=2)["z"]
        with GrpcClient("127.0.0.1", grpc.port, timeout=60) as client:
            np.testing.assert_allclose(client.decode(z), expected["rest"],
                                       atol=1e-6)
    got = np.load(tmp_path / "out.npz")
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, atol=1e-5, err_msg=key)
    assert "client: 4 images (32, 32, 3) -> " in shown.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
