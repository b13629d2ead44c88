"""One seed per row: the seeds of a draw of n rows, for the samplers, the
exported `sample` / `encode_sample` signatures and the serving client.

Every random row vae_tf serves is drawn from its own int64 seed (row i of
a draw from `seed` uses `seed + i`), so a row is reproducible alone and
does not depend on the rows it was drawn or batched with. NumPy only: the
TensorFlow-free client uses it.
"""

from __future__ import annotations

import numpy as np


def row_seeds(n: int, seed: int = 0) -> np.ndarray:
    """The per-row seeds of a draw of `n` rows from `seed`: `seed + i`
    for i < n, int64 `(n,)` (wrapping around at 2**63 as int64 does)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"Expected n >= 0 rows. Received: n={n!r}")
    start = np.array(int(seed) % 2**64, np.uint64)
    return (start + np.arange(n, dtype=np.uint64)).view(np.int64)


def as_seeds(seeds) -> np.ndarray:
    """`seeds` as an int64 vector `(n,)`; `ValueError` naming the bad
    value for anything else (floats, a matrix, a scalar)."""
    array = np.asarray(seeds)
    if array.ndim != 1 or not (array.dtype.kind in "iu" or array.size == 0):
        raise ValueError(
            "Expected seeds to be a 1-D array of integers, one per row. "
            f"Received: shape {array.shape}, dtype {array.dtype}")
    return array.astype(np.int64)
