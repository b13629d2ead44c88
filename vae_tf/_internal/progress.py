"""Progress bars for long work outside `fit`: drawing procedural data,
exporting, the IWAE bound. They are Keras' own `Progbar` on stdout, so they
look like `fit`'s, after a title line.

`verbose`: 0 prints nothing, 1 a live bar, 2 one line when done, and
`"auto"` (what the `vae-tf` command passes) 1 on a terminal and 2
otherwise, so logs and CI output get one line, not a line per update.
`True` and `False` mean `"auto"` and 0.
"""

from __future__ import annotations

import sys
from typing import Union

Verbosity = Union[int, str, bool]


def resolve_verbose(verbose: Verbosity) -> int:
    """`"auto"` (or `True`) -> 1 on a terminal, 2 otherwise; `False` -> 0;
    0, 1 and 2 unchanged."""
    if isinstance(verbose, bool):
        verbose = "auto" if verbose else 0
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2):
        raise ValueError(
            f"Expected verbose to be 0, 1, 2 or 'auto'. Received: "
            f"verbose={verbose!r}")
    return verbose


class Progress:
    """Counts `total` units of work; draws a bar unless `verbose` is 0.

    Keras (and with it TensorFlow) is imported only when a bar is drawn.
    """

    def __init__(self, total: int, title: str, verbose: Verbosity = "auto",
                 unit: str = "step"):
        self.total = total
        self.done = 0
        self._bar = None
        verbose = resolve_verbose(verbose)
        if verbose:
            import keras

            print(title, flush=True)
            self._bar = keras.utils.Progbar(total, verbose=verbose,
                                            unit_name=unit)

    def advance(self, units: int = 1) -> None:
        """Marks `units` more as done."""
        self.done += units
        if self._bar is not None:
            self._bar.update(self.done)
