"""Paths between two latent codes, in NumPy.

- `slerp` (the default): spherical linear interpolation (White 2016,
  arXiv:1609.04468). Under a Gaussian prior most of the mass sits near the
  sphere of radius sqrt(K); straight-line midpoints have atypically small
  norms, slerp's keep the endpoints' norm.
- `lerp`: the straight line.
"""

from __future__ import annotations

import numpy as np

# `vae_tf.generate.interpolate`'s and `vae-tf interpolate`'s methods.
INTERPOLATIONS = ("slerp", "lerp")


def slerp(z_a: np.ndarray, z_b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between two `(K,)` vectors at fractions `t`.

    Returns `(len(t), K)`; exactly `z_a` at t=0 and `z_b` at t=1. Falls back
    to lerp when the vectors are (anti)parallel or one of them is zero.
    """
    z_a, z_b = np.asarray(z_a, np.float64), np.asarray(z_b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    na, nb = np.linalg.norm(z_a), np.linalg.norm(z_b)
    cos = np.dot(z_a, z_b) / max(na * nb, 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    # No angle to follow from a zero vector, or between (anti)parallel ones.
    if min(na, nb) < 1e-12 or np.sin(omega) < 1e-6:
        out = lerp(z_a, z_b, t[:, 0])
    else:
        out = (
            np.sin((1 - t) * omega) * z_a + np.sin(t * omega) * z_b
        ) / np.sin(omega)
    out[t[:, 0] == 0] = z_a
    out[t[:, 0] == 1] = z_b
    return out.astype(np.float32)


def lerp(z_a: np.ndarray, z_b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Straight-line interpolation, `(len(t), K)`."""
    t = np.asarray(t, np.float64)[:, None]
    return ((1 - t) * np.asarray(z_a) + t * np.asarray(z_b)).astype(np.float32)
