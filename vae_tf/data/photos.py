"""Photos from disk as model-sized uint8 arrays (Pillow; no TensorFlow).

`find_images` lists a folder's images recursively; `read_image` decodes one
(JPEG, PNG incl. 16-bit, WebP, BMP, GIF's first frame, TIFF), turns it
upright by its EXIF orientation, converts it to grey or RGB (alpha is
dropped, CMYK and palettes converted) and fits it to `(height, width)`:

- `crop` (default): scale to cover the target, keep the centre;
- `pad`: scale to fit inside the target, centre it on black;
- `stretch`: scale each axis on its own (distorts the aspect ratio).

`read_images` decodes a list on threads (Pillow releases the GIL while it
decodes and resizes) and returns the files it could not read, with why,
instead of raising.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

import numpy as np

IMAGE_FITS = ("crop", "pad", "stretch")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif",
                    ".tif", ".tiff")
CHANNELS = (1, 3)


class UnreadableImage(Exception):
    """A file that is not an image Pillow can decode (`reason` says why)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def check_fit(fit: str) -> None:
    if fit not in IMAGE_FITS:
        raise ValueError(
            f"Unknown image fit {fit!r}. Choose one of: "
            f"{', '.join(IMAGE_FITS)}")


def check_channels(channels: int) -> None:
    if channels not in CHANNELS:
        raise ValueError(
            f"Expected channels to be 1 (grey) or 3 (RGB). Received: "
            f"channels={channels!r}")


def find_images(root: str) -> list[str]:
    """Image files under `root` (recursively, hidden folders and files
    skipped), as sorted paths relative to `root` with `/` separators."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root)
        for name in files:
            if name.startswith(".") or \
                    not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            path = name if rel == "." else os.path.join(rel, name)
            found.append(path.replace(os.sep, "/"))
    return sorted(found)


def read_image(path: str, size: Sequence[int], channels: int = 3,
               fit: str = "crop") -> np.ndarray:
    """One image, uint8 `(height, width, channels)`.

    Raises:
        UnreadableImage: not an image, truncated, or too large for
            Pillow's decompression-bomb guard.
    """
    from PIL import Image

    height, width = int(size[0]), int(size[1])
    try:
        with Image.open(path) as img:
            img.seek(0)  # an animation's first frame
            # JPEG only: decode at the smallest 1/2^k scale still at least
            # the target size (much faster for large photos).
            img.draft("L" if channels == 1 else "RGB", (width, height))
            img = _upright(img)
            img = _fit(_convert(img, channels), (width, height), fit)
            out = np.asarray(img, np.uint8)
    except (OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError) as err:
        raise UnreadableImage(path, f"{type(err).__name__}: {err}") from None
    return out.reshape(height, width, channels)


def _upright(img):
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block: keep the pixels as stored
        return img


def _convert(img, channels: int):
    """Grey `L` or `RGB`; 16-bit grey scaled to 8 bits (not clipped)."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(img, np.float64)
        img = Image.fromarray(
            np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        flat = np.asarray(img, np.float64)
        scale = 255.0 if flat.max(initial=0.0) <= 1.0 else 1.0
        img = Image.fromarray(
            np.clip(np.round(flat * scale), 0, 255).astype(np.uint8), "L")
    mode = "L" if channels == 1 else "RGB"
    return img if img.mode == mode else img.convert(mode)


def _fit(img, size: tuple[int, int], fit: str):
    from PIL import Image, ImageOps

    method = Image.Resampling.BICUBIC
    if fit == "crop":
        return ImageOps.fit(img, size, method, centering=(0.5, 0.5))
    if fit == "pad":
        return ImageOps.pad(img, size, method, color=0,
                            centering=(0.5, 0.5))
    if fit == "stretch":
        return img.resize(size, method)
    check_fit(fit)


def read_images(
    paths: Sequence[str], size: Sequence[int], channels: int = 3,
    fit: str = "crop", workers: int | None = None,
) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    """`(index, image, None)` or `(index, None, reason)` per path, in
    order, decoded on `workers` threads (default: one per core)."""
    workers = workers or os.cpu_count() or 1

    def one(path):
        try:
            return read_image(path, size, channels, fit), None
        except UnreadableImage as err:
            return None, err.reason

    with ThreadPoolExecutor(workers) as pool:
        for i, (image, reason) in enumerate(pool.map(one, paths)):
            yield i, image, reason
