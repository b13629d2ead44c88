"""Hiding TensorFlow's C++ log lines from a command's stderr.

TensorFlow 2.21 logs through Abseil, which writes everything logged before
`absl::InitializeLog()` straight to file descriptor 2, whatever
`TF_CPP_MIN_LOG_LEVEL` says: every command would start with lines such as

    WARNING: All log messages before absl::InitializeLog() is called ...
    I0000 00:00:1795677348.286133   19637 port.cc:153] oneDNN custom ...
    E0000 00:00:1795677350.999303   19637 cuda_platform.cc:52] failed ...

`hide_native_logs()` points descriptor 2 at a pipe and forwards every line
but TensorFlow's INFO and WARNING lines (and the CUDA probe's ERROR on a
machine without a GPU) to the real stderr, so Python's own errors,
warnings and tracebacks, and TensorFlow's real errors and fatal messages,
still show. Only the `vae-tf` command uses it; `--verbose`, or a
`TF_CPP_MIN_LOG_LEVEL` of the user's, shows them all.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Iterator

# An Abseil/glog line: severity, MMDD, time, thread id, file:line].
_LOG_LINE = re.compile(
    rb"^(?P<severity>[IWEF])\d{4} [\d:.]+\s+\d+ (?P<file>[\w./+-]+):\d+\] ")
_OTHER_LINES = (
    b"WARNING: All log messages before absl::InitializeLog() is called",
    # The second line of cpu_feature_guard's INFO message.
    b"To enable the following instructions:",
    # TFLite's own logger, when an interpreter starts.
    b"INFO: Created TensorFlow Lite XNNPACK delegate",
)


def is_native_log_line(line: bytes) -> bool:
    """Whether `line` is a TensorFlow C++ log line to hide: INFO or
    WARNING, or an ERROR from probing for CUDA."""
    if line.startswith(_OTHER_LINES):
        return True
    match = _LOG_LINE.match(line)
    if match is None:
        return False
    severity, source = match.group("severity"), match.group("file")
    return severity in b"IW" or (severity == b"E" and b"cuda" in source)


@contextlib.contextmanager
def hide_native_logs() -> Iterator[None]:
    """Drops TensorFlow's C++ log lines from descriptor 2 inside the block.

    Everything else written to stderr (by Python or C) reaches the real
    stderr unchanged, line by line; a last line without a newline is
    forwarded when the block ends.
    """
    sys.stderr.flush()
    real = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(
        target=_forward, args=(read_end, real), daemon=True,
        name="vae_tf-native-logs")
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end we hold
        forwarder.join(timeout=5)
        os.close(real)


def _forward(read_end: int, real: int) -> None:
    pending = b""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            kept = [line + b"\n" for line in lines
                    if not is_native_log_line(line)]
            if kept and not _write(real, b"".join(kept)):
                return
    if pending and not is_native_log_line(pending):
        _write(real, pending)


def _write(fd: int, data: bytes) -> bool:
    try:
        os.write(fd, data)
        return True
    except OSError:  # the real stderr is gone (closed, or a broken pipe)
        return False
