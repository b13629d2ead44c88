"""A full disk, said in one line that names the file.

Writers fail on a full disk (or a quota, or the process's file-size
limit) in many shapes: `OSError` with `errno` ENOSPC / EDQUOT / EFBIG
from Python, TensorFlow's `OutOfRangeError` / `ResourceExhaustedError`
carrying "No space left on device" or "File too large" from its C++
writers, and either wrapped by Keras. `naming(path)` turns any of them,
raised while `path` is written, into `DiskFullError(path)`; the CLI
prints it as one line and exits 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
from typing import Iterator, Optional

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# What the C library (and so TensorFlow's messages) call them.
_TEXTS = {code: os.strerror(code) for code in FULL_ERRNOS}


class DiskFullError(OSError):
    """The disk had no room for `filename` (`strerror` says why).

    Whatever was being written is not left under its final name: the
    writers write to a temporary name and rename, and remove it on error.
    """

    def __init__(self, path: str, code: int):
        super().__init__(code, _TEXTS[code], path)

    def __str__(self) -> str:
        return (f"the disk is full ({self.strerror}) while writing "
                f"{self.filename}. Free some space, then run the command "
                "again.")


def full_disk_errno(err: BaseException) -> Optional[int]:
    """ENOSPC, EDQUOT or EFBIG if `err` (or an exception it was raised
    from, or while handling) is a full disk; otherwise None."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in FULL_ERRNOS:
            return err.errno
        text = str(err)
        for code, words in _TEXTS.items():
            if words in text:
                return code
        err = err.__cause__ or err.__context__
    return None


@contextlib.contextmanager
def naming(path: str) -> Iterator[None]:
    """Raises `DiskFullError(path)` for a full disk inside the block (the
    outermost `naming` names it: the file the user asked for, not a
    temporary one inside it)."""
    try:
        yield
    except Exception as err:
        code = full_disk_errno(err)
        if code is None:
            raise
        raise DiskFullError(os.fspath(path), code) from err


def require_room(path: str, nbytes: int) -> None:
    """Raises `DiskFullError(path)` unless `path`'s folder has `nbytes`
    free and this process may write a file that large (its file-size
    limit, RLIMIT_FSIZE). For writers that crash instead of failing on a
    full disk (HDF5 through h5py ends the process with a segfault)."""
    folder = os.path.dirname(os.path.abspath(path))
    stat = os.statvfs(folder)
    if stat.f_bavail * stat.f_frsize < nbytes:
        raise DiskFullError(os.fspath(path), errno.ENOSPC)
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit != resource.RLIM_INFINITY and limit < nbytes:
        raise DiskFullError(os.fspath(path), errno.EFBIG)
