"""`vae-tf` hides TensorFlow's C++ log lines (they bypass
TF_CPP_MIN_LOG_LEVEL) and nothing else; `--verbose` or the user's own
TF_CPP_MIN_LOG_LEVEL shows them."""

import os
import subprocess
import sys

import pytest

from vae_tf._internal.native_logs import is_native_log_line

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are "
    "written to STDERR",
    "I0000 00:00:1795677348.286133   19637 port.cc:153] oneDNN custom "
    "operations are on.",
    "I0000 00:00:1795677349.454042    7131 cpu_feature_guard.cc:227] This "
    "TensorFlow binary is optimized",
    "To enable the following instructions: AVX2 AVX512F FMA, in other "
    "operations, rebuild TensorFlow with the appropriate compiler flags.",
    "W1126 07:14:05.123456  123 tf_xla.cc:3] a warning",
    "E0000 00:00:1795676431.715156    7504 cuda_platform.cc:52] failed call "
    "to cuInit: INTERNAL: CUDA error",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
]
KEPT = [
    "E0000 00:00:1795676431.715156    7504 bfc_allocator.cc:52] Allocator "
    "ran out of memory",
    "F0000 00:00:1795676431.715156    7504 check.cc:9] Check failed",
    "WARNING:tensorflow:5 out of the last 5 calls triggered tf.function "
    "retracing",
    "Traceback (most recent call last):",
    "vae-tf train: error: Expected `beta` to be a number >= 0",
]


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k != "TF_CPP_MIN_LOG_LEVEL"}
    return dict(env, **extra)


def test_only_tensorflows_info_warning_and_cuda_probe_lines_are_hidden():
    assert all(is_native_log_line(line.encode()) for line in NOISE)
    assert not any(is_native_log_line(line.encode()) for line in KEPT)


def test_the_filter_forwards_everything_else_in_order():
    """Lines written to descriptor 2 by C code and by Python, a last line
    without a newline, and a traceback raised after the block."""
    program = f"""
import os, sys
from vae_tf._internal.native_logs import hide_native_logs
lines = {NOISE + KEPT!r}
with hide_native_logs():
    for i, line in enumerate(lines):
        if i % 2:
            os.write(2, (line + "\\n").encode())
        else:
            print(line, file=sys.stderr)
    os.write(2, b"partial line")
raise SystemExit("after the block")
"""
    done = subprocess.run([sys.executable, "-c", program],
                          capture_output=True, text=True, timeout=60)
    assert done.stderr.splitlines() == KEPT + [
        "partial lineafter the block"]


def _reconstruct(run_dir, out, *flags, **env):
    return subprocess.run(
        [sys.executable, "-m", "vae_tf.cli", "reconstruct", run_dir,
         "--out", str(out), *flags],
        capture_output=True, text=True, timeout=600, env=_env(**env))


def test_commands_are_quiet_unless_asked(trained_run, tmp_path):
    quiet = _reconstruct(trained_run, tmp_path / "a.png")
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines()[-1].startswith(
        "vae-tf reconstruct: wrote")
    verbose = _reconstruct(trained_run, tmp_path / "b.png", "--verbose")
    own_level = _reconstruct(trained_run, tmp_path / "c.png",
                             TF_CPP_MIN_LOG_LEVEL="0")
    shown = [line for line in verbose.stderr.splitlines()
             if is_native_log_line(line.encode())]
    if not shown:
        pytest.skip("this TensorFlow logs nothing while loading a model; "
                    "nothing to hide")
    assert verbose.returncode == 0 and own_level.returncode == 0
    assert any(is_native_log_line(line.encode())
               for line in own_level.stderr.splitlines())
