"""Reading an image a visitor uploads to the explorer, whatever it is.

`read_upload(path)` returns 8-bit pixels or raises `UploadError` with a
sentence for the page; it never decodes more than `MAX_PIXELS` (the size
is read from the header first, so a decompression bomb or a 20,000 x
20,000 PNG is refused before any pixel is inflated) nor reads a file over
`MAX_UPLOAD_BYTES`. 16-bit, CMYK, palette, grey-with-alpha and animated
images are converted, with a note saying how. Pillow, no TensorFlow.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np

MAX_UPLOAD_BYTES = 20 * 2 ** 20
MAX_PIXELS = 25_000_000  # e.g. 5,000 x 5,000; the model sees a few thousand
READABLE = "PNG, JPEG, GIF, WebP, BMP or TIFF"


class UploadError(ValueError):
    """An upload the explorer cannot use; the message is for the page."""


def read_upload(path: str, name: str | None = None
                ) -> tuple[np.ndarray, list[str]]:
    """`(pixels, notes)`: `(H, W, 3)` or `(H, W)` uint8 pixels of the
    image at `path` (its first frame), and what was done to get them.

    Raises:
        UploadError: too large (bytes or pixels), not an image, or a
            damaged one.
    """
    from PIL import Image, UnidentifiedImageError

    name = name or os.path.basename(path)
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name} is {size / 2 ** 20:.1f} MB: uploads are "
                          f"limited to {MAX_UPLOAD_BYTES // 2 ** 20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header only
    except Image.DecompressionBombError as err:  # Pillow's own limit
        found = re.search(r"\((\d+) pixels\)", str(err))
        pixels = f"{int(found.group(1)):,}" if found else "too many"
        raise UploadError(_too_many(name, pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(f"{name} is not an image this page reads "
                          f"({READABLE}).") from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise UploadError(_too_many(
                name, f"{width:,} x {height:,} = {width * height:,}"))
        notes = []
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            notes.append(f"animated: the first of its {frames} frames")
        try:
            image.seek(0)
            image.load()
            return _eight_bit(image, notes), notes
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise UploadError(f"{name} is damaged and cannot be read "
                              f"({err}).") from None


def _too_many(name: str, pixels: str) -> str:
    return (f"{name} has {pixels} pixels: uploads are limited to "
            f"{MAX_PIXELS:,} pixels. Scale it down first.")


def _eight_bit(image, notes: list[str]) -> np.ndarray:
    """RGB or grey uint8 pixels of a loaded Pillow image."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.int64)
        top = 65535 if mode.startswith("I;16") or values.max() > 255 else 255
        notes.append(f"{'16' if top == 65535 else '32'}-bit grey, scaled "
                     "to 8 bits")
        return np.round(np.clip(values, 0, top) * (255 / top)).astype(
            np.uint8)
    if mode == "F":
        notes.append("floating-point grey, clipped to 0-255")
        return np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode in ("1", "LA"):
        notes.append(f"{mode} converted to grey")
        return np.asarray(image.convert("L"))
    notes.append({"P": "palette", "PA": "palette", "CMYK": "CMYK",
                  "RGBA": "transparency dropped", "YCbCr": "YCbCr",
                  "LAB": "Lab", "HSV": "HSV"}.get(mode, mode)
                 + " converted to RGB")
    return np.asarray(image.convert("RGB"))
