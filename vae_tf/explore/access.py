"""Who may use the explorer page: Gradio's login (`--auth USER:PASSWORD`
or `--auth-file FILE`) and a warning when the page listens beyond this
machine without one. The page is never shared through Gradio's public
tunnel (`share=True`). No TensorFlow, no Gradio."""

from __future__ import annotations

import ipaddress
import os
from typing import Optional

Credentials = list[tuple[str, str]]


def parse_credential(text: str, where: str = "--auth") -> tuple[str, str]:
    """`USER:PASSWORD` (the password may contain ':') as a pair.

    Raises:
        ValueError: no ':', an empty user or an empty password.
    """
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        missing = ("no ':'" if not sep else
                   "an empty user" if not user.strip() else
                   "an empty password")
        # The value itself is not echoed: it may hold a password.
        raise ValueError(
            f"{where}: expected USER:PASSWORD with a non-empty user and "
            f"password; got {missing}.")
    return user.strip(), password


def read_auth_file(path: str) -> Credentials:
    """One `USER:PASSWORD` per line; blank lines and `#` comments skipped.

    Raises:
        ValueError: a missing or unreadable file, a bad line, or no user.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"--auth-file {path}: cannot read it ({err})") \
            from None
    users = [parse_credential(line.strip(), f"--auth-file {path}, line {i}")
             for i, line in enumerate(lines, 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not users:
        raise ValueError(f"--auth-file {path}: no USER:PASSWORD line in it")
    return users


def credentials(auth: Optional[str] = None,
                auth_file: Optional[str] = None) -> Optional[Credentials]:
    """The users `--auth` and `--auth-file` allow, or None (no login)."""
    users = [] if auth is None else [parse_credential(auth)]
    if auth_file is not None:
        users += read_auth_file(os.path.expanduser(auth_file))
    return users or None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.x, ::1,
    localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def exposure_warning(host: str, users: Optional[Credentials],
                     port: int) -> Optional[str]:
    """The warning to print for a page served to other machines without a
    login, else None."""
    if users or is_loopback(host):
        return None
    return (f"vae-tf explore: warning: listening on {host}:{port} without "
            "a login: anyone who can reach this machine can use the page "
            "and upload images to it. Add --auth USER:PASSWORD or "
            "--auth-file FILE, or serve on 127.0.0.1.")
