"""`faces`: procedural colour face images with ground-truth attributes.

Every image is drawn, vectorised in NumPy, from attributes sampled with a
seeded `numpy.random.Generator`, so the data set ships as code: no
download, identical on every machine for a given seed. The attributes are
the data's true latent factors, used for attribute editing and
disentanglement metrics.

Attributes (one array of shape `(n,)` each):
    smile: mouth curvature in [-1, 1]; > 0 smiles (corners up).
    skin_tone: 0 (light) .. 1 (dark).
    hair_color: integer index into `HAIR_COLORS` (black, brown, blond, red).
    glasses: 0/1, round dark-navy frames around the eyes.
    beard: 0/1, hair-coloured lower face.
    pose: yaw in [-1, 1]; shifts the eyes, nose and mouth sideways.
    x, y: face centre offset in [-1, 1] (fractions of `MAX_SHIFT`).
    size: face scale in [0, 1] (from `MIN_SIZE` to 1).
    background: background brightness in [0, 1].
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vae_tf.data import procedural
from vae_tf._internal.progress import Progress

HAIR_COLORS = {
    "black": (0.10, 0.08, 0.07),
    "brown": (0.42, 0.24, 0.10),
    "blond": (0.93, 0.80, 0.45),
    "red": (0.75, 0.28, 0.12),
}
GLASSES_COLOR = (0.10, 0.12, 0.42)
LIGHT_SKIN = (0.98, 0.86, 0.76)
DARK_SKIN = (0.42, 0.27, 0.17)
MAX_SHIFT = 0.08
MIN_SIZE = 0.8

ATTRIBUTES = (
    "smile", "skin_tone", "hair_color", "glasses", "beard", "pose",
    "x", "y", "size", "background",
)
BINARY_ATTRIBUTES = ("glasses", "beard")

_CHUNK = 32  # images per vectorised batch: keeps arrays in cache
# Bump when the drawing changes: cached data sets (`vae_tf.data.cache`)
# are keyed by it.
GENERATOR_VERSION = 1


def sample_attributes(n: int, seed: int) -> dict[str, np.ndarray]:
    """Draws `n` independent attribute sets; each array has shape `(n,)`."""
    rng = np.random.default_rng(seed)
    return {
        "smile": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "skin_tone": rng.uniform(0.0, 1.0, n).astype(np.float32),
        "hair_color": rng.integers(0, len(HAIR_COLORS), n).astype(np.int32),
        "glasses": (rng.uniform(size=n) < 0.4).astype(np.int32),
        "beard": (rng.uniform(size=n) < 0.3).astype(np.int32),
        "pose": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "x": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "y": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "size": rng.uniform(0.0, 1.0, n).astype(np.float32),
        "background": rng.uniform(0.0, 1.0, n).astype(np.float32),
    }


def make_faces(
    n: int, seed: int = 0, image_size: int = 64,
    progress: Optional[Progress] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Samples attributes and draws `n` faces (`progress` advances per
    image drawn).

    Returns:
        `(images, attributes)`: uint8 images of shape
        `(n, image_size, image_size, 3)` and the attribute dict.
    """
    procedural.check_count(n)
    attributes = sample_attributes(n, seed)
    return render_faces(attributes, image_size, progress), attributes


def render_faces(
    attributes: dict[str, np.ndarray], image_size: int = 64,
    progress: Optional[Progress] = None,
) -> np.ndarray:
    """Draws one face per attribute set.

    Args:
        attributes: arrays of shape `(n,)` for every name in `ATTRIBUTES`.
        image_size: height and width in pixels (>= 16).

    Returns:
        uint8 images of shape `(n, image_size, image_size, 3)`.
    """
    return procedural.render_in_chunks(
        attributes, ATTRIBUTES, _render_chunk, image_size, 3, _CHUNK,
        progress,
    )


class _Canvas:
    """`n` RGB images of `size` px being painted, float32 in [0, 1].

    Pixel centres are in [-1, 1]: `u` to the right, shape (1, 1, S), `v`
    downwards, shape (1, S, 1); they broadcast against per-image
    parameters of shape (n, 1, 1). Shapes are signed distance functions
    (negative inside), painted with anti-aliased coverage.
    """

    def __init__(self, n: int, size: int, background: np.ndarray):
        coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
        self.u = coords[None, None, :]
        self.v = coords[None, :, None]
        self.px = 2.0 / size  # one pixel in these units, for anti-aliasing
        self.img = np.broadcast_to(
            background * np.array([0.85, 0.92, 1.0], np.float32),
            (n, size, size, 3),
        ).copy()

    def cover(self, sdf):
        """Anti-aliased coverage of the region sdf < 0, shape (n, S, S)."""
        return np.clip(0.5 - sdf / self.px, 0.0, 1.0, dtype=np.float32)

    def paint(self, alpha, rgb) -> None:
        rgb = np.asarray(rgb, np.float32)
        self.img += alpha[..., None] * (rgb - self.img)

    def ellipse(self, x0, y0, rx, ry):
        r = np.sqrt(((self.u - x0) / rx) ** 2 + ((self.v - y0) / ry) ** 2)
        return (r - 1.0) * np.minimum(rx, ry)


def _render_chunk(a: dict[str, np.ndarray], size: int) -> np.ndarray:
    def col(name):
        return np.asarray(a[name], np.float32)[:, None, None]

    scale = MIN_SIZE + (1.0 - MIN_SIZE) * col("size")
    geometry = {
        "scale": scale,
        "cx": MAX_SHIFT * col("x"),
        "cy": MAX_SHIFT * col("y") + 0.05,
        "fa": 0.58 * scale,  # face half-width
        "fb": 0.74 * scale,  # face half-height
        "yaw": 0.13 * scale * col("pose"),
        "feat": 1.2 * scale,  # facial features grow with the face
    }
    canvas = _Canvas(len(a["smile"]), size,
                     0.45 + 0.45 * col("background")[..., None])
    skin_t = col("skin_tone")[..., None]
    skin = (1 - skin_t) * np.array(LIGHT_SKIN, np.float32) + skin_t * np.array(
        DARK_SKIN, np.float32
    )
    hair = np.array(list(HAIR_COLORS.values()), np.float32)[
        np.asarray(a["hair_color"])
    ][:, None, None, :]
    face = _paint_head(canvas, geometry, skin, hair)
    _paint_features(canvas, geometry, face, skin, hair, col("beard"),
                    col("smile"))
    _paint_glasses(canvas, geometry, col("glasses"))
    return np.round(np.clip(canvas.img, 0.0, 1.0) * 255.0).astype(np.uint8)


def _paint_head(c: _Canvas, g: dict, skin, hair):
    """Hair behind the head, then the face, then a fringe on top; returns
    the face's signed distance."""
    cx, cy, fa, fb, scale = g["cx"], g["cy"], g["fa"], g["fb"], g["scale"]
    c.paint(c.cover(c.ellipse(cx, cy - 0.07 * scale, fa * 1.12, fb * 1.05)),
            hair)
    face = c.ellipse(cx, cy, fa, fb)
    c.paint(c.cover(face), skin)
    fringe = np.maximum(face, (c.v - (cy - 0.40 * fb)))
    c.paint(c.cover(fringe), hair)
    return face


def _paint_features(c: _Canvas, g: dict, face, skin, hair, beard,
                    smile) -> None:
    """Beard, eyes, nose and mouth."""
    cx, cy, yaw, feat = g["cx"], g["cy"], g["yaw"], g["feat"]
    eye_y, eye_dx = cy - 0.14 * feat, 0.20 * feat
    beard_region = np.maximum(face, (cy + 0.17 * feat) - c.v)
    c.paint(c.cover(beard_region) * beard, hair * np.float32(0.85))
    for side in (-1.0, 1.0):
        ex = cx + side * eye_dx + yaw
        c.paint(c.cover(c.ellipse(ex, eye_y, 0.085 * feat, 0.055 * feat)),
                (0.97, 0.97, 0.97))
        c.paint(c.cover(c.ellipse(ex + 0.3 * yaw, eye_y, 0.04 * feat,
                                  0.04 * feat)), (0.12, 0.10, 0.10))
    nose = np.maximum(
        np.abs(c.u - (cx + 1.3 * yaw)) - 0.025 * feat,
        np.abs(c.v - (cy + 0.08 * feat)) - 0.06 * feat,
    )
    c.paint(c.cover(nose), skin * np.float32(0.8))
    # Mouth: a thick parabola whose centre dips by `smile` (corners up).
    mw = 0.24 * feat
    du = c.u - (cx + yaw)
    curve = cy + 0.30 * feat + 0.14 * feat * smile * (1.0 - (du / mw) ** 2)
    mouth = np.maximum(np.abs(c.v - curve) - 0.045 * feat, np.abs(du) - mw)
    c.paint(c.cover(mouth), (0.72, 0.12, 0.15))


def _paint_glasses(c: _Canvas, g: dict, glasses) -> None:
    """Two rings and a bridge, opaque where `glasses` is 1."""
    cx, yaw, feat = g["cx"], g["yaw"], g["feat"]
    eye_y, eye_dx = g["cy"] - 0.14 * feat, 0.20 * feat
    for side in (-1.0, 1.0):
        ex = cx + side * eye_dx + yaw
        ring = np.abs(c.ellipse(ex, eye_y, 0.13 * feat, 0.11 * feat)) - 0.035
        c.paint(c.cover(ring) * glasses, GLASSES_COLOR)
    bridge = np.maximum(
        np.abs(c.u - (cx + yaw)) - (eye_dx - 0.12 * feat),
        np.abs(c.v - eye_y) - 0.03,
    )
    c.paint(c.cover(bridge) * glasses, GLASSES_COLOR)
