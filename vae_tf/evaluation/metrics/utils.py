"""Shared helpers: discretisation, discrete entropy, mutual information.

Layouts follow disentanglement_lib: codes and factors are
`(num_codes, num_points)` / `(num_factors, num_points)` arrays.
"""

from __future__ import annotations

import numpy as np


def discretize(values: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Equal-width histogram bin index per row, `(rows, points)` int array.

    Rows that take at most `num_bins` distinct values (already discrete,
    e.g. a binary attribute) keep their own categories instead.
    """
    values = np.asarray(values, np.float64)
    out = np.zeros(values.shape, np.int64)
    for i, row in enumerate(values):
        distinct = np.unique(row)
        if len(distinct) <= num_bins:
            out[i] = np.searchsorted(distinct, row)
        else:
            edges = np.histogram_bin_edges(row, num_bins)[1:-1]
            out[i] = np.digitize(row, edges)
    return out


def entropy(labels: np.ndarray) -> float:
    """Entropy in nats of a discrete sample, shape `(points,)`."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information in nats of two discrete samples."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def mutual_information_matrix(codes: np.ndarray,
                              factors: np.ndarray) -> np.ndarray:
    """`m[i, j]` = MI(code i, factor j); inputs discrete, rows are variables."""
    return np.array(
        [[mutual_information(c, f) for f in factors] for c in codes]
    )


def check_codes_and_factors(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 `(num_points, width)` arrays, or `ValueError` naming
    their shapes."""
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors):
        raise ValueError(
            "Expected codes (num_points, latent_dim) and factors "
            f"(num_points, num_factors). Received: {codes.shape}, "
            f"{factors.shape}"
        )
    for name, values in (("codes", codes), ("factors", factors)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} contain NaN or Inf values.")
    return codes, factors


def is_discrete(values: np.ndarray, max_classes: int = 20) -> bool:
    """Whether a factor `(points,)` is a class label: at most
    `max_classes` distinct values, all integers (a binary attribute, a
    shape index, a hair-colour class)."""
    distinct = np.unique(values)
    return len(distinct) <= max_classes and bool(
        np.all(distinct == np.round(distinct)))
