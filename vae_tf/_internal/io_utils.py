"""Atomic file writes: write to a temporary name beside the target, rename.

A reader (or a crash) never sees a half-written file: either the old file,
or nothing, or the complete new one. The file ends with the mode a plain
`open(path, "w")` would give it (0644 under umask 022), not the 0600 of
the private temporary file, so other users and a TF Serving container
running under another uid can read it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator

from vae_tf._internal import disk_full


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """Yields a temporary path in the target's folder; renames it on success.

    The temporary file is removed if the block raises; a full disk is
    raised as `DiskFullError(path)` (`vae_tf._internal.disk_full`).
    `suffix` lets writers that insist on a file extension (e.g. Keras'
    `.keras`) see one.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}",
        dir=folder,
    )
    os.close(fd)
    try:
        with disk_full.naming(path):
            yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it
    (`/proc/self/status`); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
