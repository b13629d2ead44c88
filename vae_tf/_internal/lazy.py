"""PEP 562 lazy re-exports for a package `__init__`: a name is imported
from its module on first use, so importing the package costs nothing."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str],
                 namespace: dict) -> tuple[Callable, Callable]:
    """`(__getattr__, __dir__)` for `package`, whose public names map to
    their defining modules in `exports`; `namespace` is the package's
    `globals()`, where a resolved name is cached."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
