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

import numpy as np

from vae_tf.data import procedural

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
    n: int, seed: int = 0, image_size: int = 64
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Samples attributes and draws `n` faces.

    Returns:
        `(images, attributes)`: uint8 images of shape
        `(n, image_size, image_size, 3)` and the attribute dict.
    """
    procedural.check_count(n)
    attributes = sample_attributes(n, seed)
    return render_faces(attributes, image_size), attributes


def render_faces(
    attributes: dict[str, np.ndarray], image_size: int = 64
) -> np.ndarray:
    """Draws one face per attribute set.

    Args:
        attributes: arrays of shape `(n,)` for every name in `ATTRIBUTES`.
        image_size: height and width in pixels (>= 16).

    Returns:
        uint8 images of shape `(n, image_size, image_size, 3)`.
    """
    return procedural.render_in_chunks(
        attributes, ATTRIBUTES, _render_chunk, image_size, 3, _CHUNK
    )


def _render_chunk(a: dict[str, np.ndarray], size: int) -> np.ndarray:
    n = len(a["smile"])
    # Pixel centres in [-1, 1]; u to the right, v downwards. Shapes (1, S, S)
    # broadcast against per-image parameters of shape (n, 1, 1).
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    u = coords[None, None, :]
    v = coords[None, :, None]
    px = 2.0 / size  # one pixel in these units, for anti-aliasing

    def col(name):
        return np.asarray(a[name], np.float32)[:, None, None]

    def cover(sdf):
        """Anti-aliased coverage of the region sdf < 0, shape (n, S, S)."""
        return np.clip(0.5 - sdf / px, 0.0, 1.0, dtype=np.float32)

    def paint(img, alpha, rgb):
        rgb = np.asarray(rgb, np.float32)
        img += alpha[..., None] * (rgb - img)

    scale = MIN_SIZE + (1.0 - MIN_SIZE) * col("size")
    cx = MAX_SHIFT * col("x")
    cy = MAX_SHIFT * col("y") + 0.05
    fa, fb = 0.58 * scale, 0.74 * scale  # face half-width, half-height
    yaw = 0.13 * scale * col("pose")

    bg = 0.45 + 0.45 * col("background")[..., None]
    img = np.broadcast_to(
        bg * np.array([0.85, 0.92, 1.0], np.float32), (n, size, size, 3)
    ).copy()

    skin_t = col("skin_tone")[..., None]
    skin = (1 - skin_t) * np.array(LIGHT_SKIN, np.float32) + skin_t * np.array(
        DARK_SKIN, np.float32
    )
    hair = np.array(list(HAIR_COLORS.values()), np.float32)[
        np.asarray(a["hair_color"])
    ][:, None, None, :]

    def ellipse(x0, y0, rx, ry):
        r = np.sqrt(((u - x0) / rx) ** 2 + ((v - y0) / ry) ** 2)
        return (r - 1.0) * np.minimum(rx, ry)

    # Hair behind the head, then the face, then a fringe on top.
    paint(img, cover(ellipse(cx, cy - 0.07 * scale, fa * 1.12, fb * 1.05)),
          hair)
    face = ellipse(cx, cy, fa, fb)
    paint(img, cover(face), skin)
    fringe = np.maximum(face, (v - (cy - 0.40 * fb)))
    paint(img, cover(fringe), hair)

    feat = 1.2 * scale  # facial features grow with the face
    eye_y = cy - 0.14 * feat
    eye_dx = 0.20 * feat
    mouth_y = cy + 0.30 * feat

    beard = col("beard")[..., None]
    beard_region = np.maximum(face, (cy + 0.17 * feat) - v)
    paint(img, cover(beard_region) * beard[..., 0], hair * np.float32(0.85))

    for side in (-1.0, 1.0):
        ex = cx + side * eye_dx + yaw
        paint(img, cover(ellipse(ex, eye_y, 0.085 * feat, 0.055 * feat)),
              (0.97, 0.97, 0.97))
        paint(img, cover(ellipse(ex + 0.3 * yaw, eye_y, 0.04 * feat,
                                 0.04 * feat)), (0.12, 0.10, 0.10))

    nose = np.maximum(
        np.abs(u - (cx + 1.3 * yaw)) - 0.025 * feat,
        np.abs(v - (cy + 0.08 * feat)) - 0.06 * feat,
    )
    paint(img, cover(nose), skin * np.float32(0.8))

    # Mouth: a thick parabola whose centre dips by `smile` (corners up).
    mw = 0.24 * feat
    du = u - (cx + yaw)
    curve = mouth_y + 0.14 * feat * col("smile") * (1.0 - (du / mw) ** 2)
    mouth = np.maximum(np.abs(v - curve) - 0.045 * feat, np.abs(du) - mw)
    paint(img, cover(mouth), (0.72, 0.12, 0.15))

    glasses = col("glasses")
    for side in (-1.0, 1.0):
        ex = cx + side * eye_dx + yaw
        ring = np.abs(ellipse(ex, eye_y, 0.13 * feat, 0.11 * feat)) - 0.035
        paint(img, cover(ring) * glasses, GLASSES_COLOR)
    bridge = np.maximum(
        np.abs(u - (cx + yaw)) - (eye_dx - 0.12 * feat),
        np.abs(v - eye_y) - 0.03,
    )
    paint(img, cover(bridge) * glasses, GLASSES_COLOR)

    return np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
