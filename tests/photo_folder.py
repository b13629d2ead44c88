"""A generated folder of photos in every format `folder:` reads, with
sizes and aspect ratios that differ, nested sub-folders, and a few files
that are not images: what a user's own folder looks like."""

from __future__ import annotations

import os

import numpy as np

FORMATS = ("jpg", "png", "webp", "bmp", "gif", "png16", "cmyk", "palette")
BROKEN = ("broken.jpg", "sub/truncated.png", "sub/empty.webp")


def _face(rng, h, w):
    """A smooth blob on a gradient: something a VAE can learn fast."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    cy, cx = rng.uniform(0.3, 0.7, 2)
    blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.03)
    colour = rng.uniform(0.2, 1.0, 3)
    img = 0.3 * yy[..., None] + blob[..., None] * colour
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def make_photo_folder(root: str, n: int = 60, seed: int = 0) -> list[str]:
    """Writes `n` readable images (round-robin over `FORMATS`, sizes
    24-120 px a side, in `root`, `root/sub` and `root/sub/deeper`) plus
    the `BROKEN` files and a text file; returns the readable ones'
    relative paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folders = ("", "sub", "sub/deeper")
    for f in folders:
        os.makedirs(os.path.join(root, f), exist_ok=True)
    names = []
    for i in range(n):
        h, w = (int(v) for v in rng.integers(24, 121, 2))
        img = _face(rng, h, w)
        kind = FORMATS[i % len(FORMATS)]
        ext = {"png16": "png", "cmyk": "jpg", "palette": "png"}
        ext = ext.get(kind, kind)
        name = os.path.join(folders[i % 3], f"img{i:04d}_{kind}.{ext}")
        path = os.path.join(root, name)
        if kind == "png16":
            Image.fromarray(img[..., 1].astype(np.uint16) * 257).save(path)
        elif kind == "cmyk":
            Image.fromarray(img).convert("CMYK").save(path)
        elif kind == "palette":
            Image.fromarray(img).convert("P").save(path)
        elif kind == "gif":
            frames = [Image.fromarray(img), Image.fromarray(255 - img)]
            frames[0].save(path, save_all=True, append_images=frames[1:])
        else:
            Image.fromarray(img).save(path)
        names.append(name.replace(os.sep, "/"))
    with open(os.path.join(root, BROKEN[0]), "wb") as f:
        f.write(b"this is not a JPEG")
    good = os.path.join(root, names[1])  # a PNG, cut short
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(root, BROKEN[1]), "wb") as f:
        f.write(data[:len(data) // 2])
    open(os.path.join(root, BROKEN[2]), "wb").close()
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not an image file: ignored, not counted\n")
    return names
