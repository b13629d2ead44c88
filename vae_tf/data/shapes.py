"""`shapes`: a dSprites-like set of white shapes on black, with factors.

Like dSprites (Matthey et al. 2017), each 64x64 grayscale image shows one
shape whose generative factors are known: `shape` (0 square, 1 ellipse,
2 heart), `scale` in [0, 1], `rotation` in radians [0, 2*pi), and the
position `x`, `y` in [0, 1]. Drawn procedurally and anti-aliased; the same
seed gives the same images everywhere.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vae_tf.data import procedural
from vae_tf._internal.progress import Progress

SHAPES = ("square", "ellipse", "heart")
FACTORS = ("shape", "scale", "rotation", "x", "y")

_CHUNK = 64
# Bump when the drawing changes: cached data sets (`vae_tf.data.cache`)
# are keyed by it.
GENERATOR_VERSION = 1


def sample_factors(n: int, seed: int) -> dict[str, np.ndarray]:
    """Draws `n` independent factor sets; each array has shape `(n,)`."""
    rng = np.random.default_rng(seed)
    return {
        "shape": rng.integers(0, len(SHAPES), n).astype(np.int32),
        "scale": rng.uniform(0.0, 1.0, n).astype(np.float32),
        "rotation": rng.uniform(0.0, 2 * np.pi, n).astype(np.float32),
        "x": rng.uniform(0.0, 1.0, n).astype(np.float32),
        "y": rng.uniform(0.0, 1.0, n).astype(np.float32),
    }


def make_shapes(
    n: int, seed: int = 0, image_size: int = 64,
    progress: Optional[Progress] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Samples factors and draws `n` images (`progress` advances per
    image drawn).

    Returns:
        `(images, factors)`: uint8 images `(n, image_size, image_size, 1)`.
    """
    procedural.check_count(n)
    factors = sample_factors(n, seed)
    return render_shapes(factors, image_size, progress), factors


def render_shapes(
    factors: dict[str, np.ndarray], image_size: int = 64,
    progress: Optional[Progress] = None,
) -> np.ndarray:
    """Draws one shape per factor set; uint8 `(n, S, S, 1)`."""
    return procedural.render_in_chunks(
        factors, FACTORS, _render_chunk, image_size, 1, _CHUNK, progress
    )


def _render_chunk(f: dict[str, np.ndarray], size: int) -> np.ndarray:
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    px = 2.0 / size

    def col(name):
        return np.asarray(f[name], np.float32)[:, None, None]

    radius = 0.15 + 0.15 * col("scale")
    cx = (col("x") * 2.0 - 1.0) * (0.95 - 0.3)
    cy = (col("y") * 2.0 - 1.0) * (0.95 - 0.3)
    cos, sin = np.cos(col("rotation")), np.sin(col("rotation"))
    du = coords[None, None, :] - cx
    dv = coords[None, :, None] - cy
    # Shape-local coordinates in units of the radius; p up for the heart.
    p = (cos * du + sin * dv) / radius
    q = (-sin * du + cos * dv) / radius

    square = np.maximum(np.abs(p), np.abs(q)) - 0.8
    ellipse = np.sqrt((p / 1.0) ** 2 + (q / 0.6) ** 2) - 1.0
    hx, hy = p * 1.1, -q * 1.1 + 0.15
    heart_implicit = (hx**2 + hy**2 - 1.0) ** 3 - hx**2 * hy**3
    heart = np.cbrt(heart_implicit) * 0.7  # roughly distance-like near 0
    shape = np.asarray(f["shape"])[:, None, None]
    sdf = np.where(shape == 0, square, np.where(shape == 1, ellipse, heart))
    sdf = sdf * radius  # back to image units
    alpha = np.clip(0.5 - sdf / px, 0.0, 1.0)
    return np.round(alpha * 255.0).astype(np.uint8)
