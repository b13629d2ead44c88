"""`import vae_tf` is cheap and side-effect free; every public name still
resolves (lazily)."""

import os
import subprocess
import sys

import pytest

import vae_tf


def test_import_loads_nothing_heavy_and_sets_no_environment():
    program = (
        "import os, sys; before = dict(os.environ); import vae_tf; "
        "heavy = [m for m in ('tensorflow', 'keras', 'tensorflow_probability')"
        " if m in sys.modules]; "
        "assert not heavy, heavy; assert dict(os.environ) == before; "
        "print(vae_tf.__version__)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", program], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == vae_tf.__version__


@pytest.mark.parametrize("name", vae_tf.__all__)
def test_every_public_name_resolves_to_its_module(name):
    value = getattr(vae_tf, name)
    assert value is getattr(sys.modules[vae_tf._EXPORTS[name]], name)
    assert name in dir(vae_tf)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'trian'"):
        vae_tf.trian  # noqa: B018
    assert not hasattr(vae_tf, "serving_client")
