"""One writer per folder: an advisory lock that the OS releases when
its process ends, however it ends (`fcntl.flock`).

`vae-tf train --out DIR` holds `DIR/.vae_tf.lock` from checking the
directory to writing its last file; a second writer is refused at once
with the holder's process id, instead of both training into one history
and backup. `vae-tf export` holds `BASE/.vae_tf.lock` (waiting for it)
from choosing a version number to publishing it, so concurrent exports
get distinct versions. The file holds the holder's pid and is removed on
release.
"""

from __future__ import annotations

import fcntl
import os
from typing import Optional

LOCK_FILE = ".vae_tf.lock"


class RunInUseError(ValueError):
    """Another live process holds the directory's lock."""


class DirectoryLock:
    """An exclusive lock on `folder` (created if missing): refused at once
    if another process holds it, or waited for with `wait=True`.

    Use as a context manager, or `acquire()` then `release()`.
    """

    def __init__(self, folder: str, what: str = "run directory",
                 wait: bool = False):
        self.folder, self.what, self.wait = folder, what, wait
        self.path = os.path.join(folder, LOCK_FILE)
        self._fd: Optional[int] = None

    def acquire(self) -> "DirectoryLock":
        """Takes the lock, waiting for it with `wait`; otherwise raises
        RunInUseError naming the holder if another process has it."""
        os.makedirs(self.folder, exist_ok=True)
        mode = fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip()
                os.close(fd)
                raise RunInUseError(
                    f"{self.folder} is in use: another vae-tf process (pid "
                    f"{holder or 'unknown'}) is writing this {self.what}. "
                    "Wait for it to finish, or choose another --out."
                ) from None
            # The holder before us may have removed the file after we
            # opened it: a lock on a removed file locks nothing.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Removes the file and drops the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> "DirectoryLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
