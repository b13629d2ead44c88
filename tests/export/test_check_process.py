"""`check_export`'s one TensorFlow process: the fresh loads, then
`saved_model_cli show` and `run` through the tool's own parser."""

from __future__ import annotations

import os
import shutil

import numpy as np

from repo import REPO
from vae_tf.export import check_export
from vae_tf.export.cli_tool import run_saved_model_cli

DECODER = os.path.join(REPO, "saved_models", "faces_decoder", "1")


def test_saved_model_cli_commands_run_one_after_another(tmp_path):
    show = run_saved_model_cli(["show", "--all", "--dir", DECODER])
    assert show["returncode"] == 0, show["stderr"]
    assert "signature_def['serving_default']" in show["stdout"]
    z = tmp_path / "z.npy"
    np.save(z, np.zeros((2, 16), np.float32))
    run = ["run", "--dir", DECODER, "--tag_set", "serve",
           "--signature_def", "serving_default", "--inputs", f"z={z}"]
    ran = run_saved_model_cli(run)
    assert ran["returncode"] == 0, ran["stderr"]
    assert "Result for output key image" in ran["stdout"]
    # Each command parses its own flags: a second run sees its own names.
    wrong = run_saved_model_cli(run[:6] + ["nope"] + run[7:])
    assert wrong["returncode"] == 1
    assert 'Could not find signature "nope"' in wrong["stderr"]
    # ... and forgets the last one's: no tag set given lists the tag sets.
    tags = run_saved_model_cli(["show", "--dir", DECODER])
    assert "contains the following tag-sets" in tags["stdout"], tags
    assert run_saved_model_cli(["show", "--no-such-flag"])["returncode"] == 2


def test_damaged_variables_fail_the_loads_but_not_the_signature_check(
        tmp_path):
    """Loads that raise do not take the CLI's answers with them: (a) reads
    only saved_model.pb and passes, (b) and the loads fail with the
    error, not a lost process."""
    copy = tmp_path / "1"
    shutil.copytree(DECODER, copy)
    data = copy / "variables" / "variables.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])
    checks = {c.name[0]: c for c in check_export(str(copy))}
    assert checks["a"].ok, checks["a"].detail
    for step in "bcdf":
        assert not checks[step].ok, step
        assert checks[step].detail and checks[step].detail != "no output"
