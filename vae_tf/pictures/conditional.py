"""Pictures of a conditional run (issue 29): each image is encoded and
decoded with its own factors, as the model was trained.

- reconstructions: image i under its own conditions;
- interpolations: the codes along the latent path and the encoded
  conditions linearly from image a's to image b's, so a strip also moves
  between the two images' classes;
- traversals: every cell under the conditions of the start image;
- edits, the third way to edit (`condition`): the code of an image stays
  and its encoded condition moves from its own value towards the target,
  `own + strength * (target - own)` (class factors: towards the target
  class's one-hot, 1 = that class; continuous factors: one standard
  deviation of the training data per unit of strength).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from vae_tf.generate.interpolation import lerp, slerp
from vae_tf.runs import Run


def conditions_of(run: Run, split: str, index) -> dict[str, np.ndarray]:
    """Encoded conditions `{factor: (n, width)}` of rows `index` of
    `split`."""
    from vae_tf.data.conditions import encode_conditions

    attrs = getattr(run.data, split).attributes
    specs = run.config.specs()
    return encode_conditions(
        specs, {s.name: np.asarray(attrs[s.name])[index] for s in specs})


def encode(run: Run, x: np.ndarray, conditions: dict) -> np.ndarray:
    """`z_mean` `(n, K)` of images `x` under `conditions`."""
    from vae_tf.evaluation.metrics.elbo import encode_moments

    return encode_moments(run.models.encoder, x, 256, conditions)[0]


def decode(run: Run, z: np.ndarray, conditions: dict) -> np.ndarray:
    """Images of codes `z` `(n, K)` under `conditions` (n rows each)."""
    return run.models.decoder.predict(
        {"z": np.asarray(z, np.float32), **conditions}, batch_size=256,
        verbose=0)


def reconstruct(run: Run, split: str, index) -> tuple[np.ndarray, ...]:
    """`(originals, reconstructions)` of rows `index` of `split`."""
    x = run.split_images(split)[index]
    conditions = conditions_of(run, split, index)
    return x, decode(run, encode(run, x, conditions), conditions)


def interpolate(run: Run, split: str, index_a, index_b, steps: int,
                method: str) -> np.ndarray:
    """Strips `(n, steps, H, W, C)` from rows `index_a` to `index_b`."""
    x = run.split_images(split)
    cond_a = conditions_of(run, split, index_a)
    cond_b = conditions_of(run, split, index_b)
    za = encode(run, x[index_a], cond_a)
    zb = encode(run, x[index_b], cond_b)
    t = np.linspace(0.0, 1.0, steps)
    path = lerp if method == "lerp" else slerp
    z = np.stack([path(a, b, t) for a, b in zip(za, zb)])
    conditions = {k: np.stack([lerp(a, b, t) for a, b in
                               zip(cond_a[k], cond_b[k])]).reshape(
                                   len(za) * steps, -1)
                  for k in cond_a}
    images = decode(run, z.reshape(-1, z.shape[-1]), conditions)
    return images.reshape(z.shape[:2] + images.shape[1:])


def traverse(run: Run, split: str, index: int, dims: Sequence[int],
             values: Sequence[float], z: Optional[np.ndarray] = None
             ) -> np.ndarray:
    """`(len(dims), len(values), H, W, C)`: from the code of row `index`
    (or `z`), one dimension at a time set to each value, all under row
    `index`'s conditions."""
    conditions = conditions_of(run, split, [index])
    if z is None:
        z = encode(run, run.split_images(split)[index:index + 1],
                   conditions)[0]
    grid = np.repeat(np.asarray(z, np.float32)[None, None], len(dims), 0)
    grid = grid.repeat(len(values), 1)
    for i, d in enumerate(dims):
        grid[i, :, int(d)] = values
    cells = len(dims) * len(values)
    images = decode(run, grid.reshape(cells, -1),
                    {k: np.repeat(v, cells, 0) for k, v in
                     conditions.items()})
    return images.reshape((len(dims), len(values)) + images.shape[1:])


def edit(run: Run, split: str, index, factor: str, value,
         strengths: Sequence[float]) -> np.ndarray:
    """`(n, len(strengths), H, W, C)`: rows `index` of `split` with the
    encoded condition of `factor` moved towards `value` (a class value;
    `None`: the binary class 1, or one std up for a continuous factor)."""
    specs = {s.name: s for s in run.config.specs()}
    if factor not in specs:
        raise ValueError(
            f"The run is conditioned on {', '.join(specs)}, not "
            f"{factor!r}: its condition way edits those (the vector and "
            "dimension ways need an unconditional run).")
    spec = specs[factor]
    x = run.split_images(split)[index]
    conditions = conditions_of(run, split, index)
    z = encode(run, x, conditions)
    own = conditions[factor]
    if spec.kind == "class":
        target = spec.encode(np.full(len(x), 1 if value is None else value))
        step = target - own
    else:
        step = np.ones_like(own)  # one training std per unit of strength
    s = np.asarray(strengths, np.float32)
    n = len(x)
    rows = {k: np.repeat(v, len(s), 0) for k, v in conditions.items()}
    rows[factor] = (own[:, None] + s[None, :, None] * step[:, None]
                    ).reshape(n * len(s), -1).astype(np.float32)
    images = decode(run, np.repeat(z, len(s), 0), rows)
    return images.reshape((n, len(s)) + images.shape[1:])
