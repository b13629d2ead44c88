"""What a continuous latent space is for: sample, reconstruct, interpolate,
traverse, and edit images along attribute directions.

Every function takes the encoder and/or decoder as a Keras model, a loaded
SavedModel (`tf.saved_model.load`, as exported by `vae_tf.export`), or the
path of an exported model (base path or version folder). Images are float32
`(n, H, W, C)` in [0, 1]; uint8 inputs are scaled by 1/255.

Interpolation follows `vae_tf.interpolation`'s paths, slerp by default.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from vae_tf.interpolation import INTERPOLATIONS, lerp, slerp
from vae_tf.pixels import as_float_images

if TYPE_CHECKING:
    import keras

# An encoder or decoder in any form the functions here accept: a Keras
# model, a loaded SavedModel (`tf.saved_model.load`, a `tf.Module` with
# `signatures`) or the path of an exported one.
ModelSource = Union["keras.Model", tf.Module, str, os.PathLike]


def _load_saved_model(path: str):
    from vae_tf.export.layout import resolve_version_dir

    folder = resolve_version_dir(path)
    if not os.path.isdir(os.path.join(folder, "variables")):
        raise FileNotFoundError(
            f"{folder} has no variables/ folder: the SavedModel is incomplete."
            " Export it again with `vae-tf export`."
        )
    try:
        return tf.saved_model.load(folder)
    except (OSError, ValueError, tf.errors.OpError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(f"Cannot load SavedModel {folder}: {first}") from None


def _check_input(x: np.ndarray, expected, what: str) -> np.ndarray:
    """Refuses arrays whose shape does not fit `expected` (None = any)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{what}: expected numbers, got dtype {x.dtype}.")
    expected = tuple(expected)
    if x.ndim != len(expected) or any(
        e is not None and e != d for e, d in zip(expected[1:], x.shape[1:])
    ):
        shape = ", ".join("batch" if e is None else str(e) for e in expected)
        raise ValueError(
            f"{what}: expected shape ({shape}). Received: {x.shape}"
        )
    return x.astype(np.float32)


def _signature_shape(signature, name: str):
    return tuple(signature.structured_input_signature[1][name].shape.as_list())


def _model_fn(model, input_name: str, output_name: str, what: str):
    """`array -> array` over a Keras model, loaded SavedModel or path.

    SavedModels run their `serving_default` signature (`input_name` ->
    `output_name`); Keras models take their first output when they have
    several. Inputs are checked against the model's shape first.
    """
    if isinstance(model, (str, os.PathLike)):
        model = _load_saved_model(os.fspath(model))
    if hasattr(model, "signatures"):
        signature = model.signatures["serving_default"]
        shape = _signature_shape(signature, input_name)

        def run(x):
            x = _check_input(x, shape, what)
            outputs = signature(**{input_name: tf.constant(x)})
            return outputs[output_name].numpy()

        return run
    shape = tuple(model.input_shape)

    def run_keras(x):
        out = model.predict(_check_input(x, shape, what), verbose=0,
                            batch_size=256)
        return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)

    return run_keras


def decoder_fn(decoder: ModelSource) -> Callable[[np.ndarray], np.ndarray]:
    """z `(n, K)` -> images `(n, H, W, C)` for any accepted decoder form.

    The returned function raises `ValueError` for a z of the wrong shape.
    """
    return _model_fn(decoder, "z", "image", "decoder input z")


def encoder_fn(encoder: ModelSource) -> Callable[[np.ndarray], np.ndarray]:
    """images -> posterior means `(n, K)` for any accepted encoder form.

    The returned function raises `ValueError` for images of the wrong shape.
    """
    return _model_fn(encoder, "image", "z_mean", "encoder input image")


def latent_dim_of(decoder: ModelSource) -> int:
    """Width of the decoder's input."""
    if isinstance(decoder, (str, os.PathLike)):
        decoder = _load_saved_model(os.fspath(decoder))
    if hasattr(decoder, "signatures"):
        spec = decoder.signatures["serving_default"].structured_input_signature
        return int(spec[1]["z"].shape[-1])
    return int(decoder.input_shape[-1])


def sample(decoder: ModelSource, n: int, temperature: float = 1.0,
           seed: int = 0, sampler=None, seeds=None):
    """Decodes `n` latent draws of `sampler` (default: the N(0, I) prior).

    Draws come from `sampler.tf_sample` (stateless, one seed per row), the
    function the exported decoder's `sample` signature runs: row i is the
    draw of seed `seed + i`, so `sample(d, 8, seed=0)[i]` is
    `sample(d, 1, seed=i)[0]`, and a seed gives the same z here, in
    `vae-tf sample` and from TF Serving.

    Args:
        sampler: a `vae_tf.samplers` sampler, e.g. the run's
            `MixtureSampler` (`vae_tf.runs.run_sampler`).
        temperature: scales the deviation of z from the sampler's
            component means (the prior's is 0).
        seeds: the rows' seeds instead of `seed + i` (int `(n,)`).

    Returns:
        `(images, z)`: `(n, H, W, C)` and `(n, K)`.
    """
    from vae_tf.samplers import PriorSampler

    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"Expected n > 0 samples. Received: n={n!r}")
    if not temperature > 0:
        raise ValueError(
            f"Expected temperature > 0. Received: temperature={temperature!r}"
        )
    k = latent_dim_of(decoder)
    if sampler is None:
        sampler = PriorSampler(k)
    if sampler.latent_dim != k:
        raise ValueError(
            f"The sampler draws {sampler.latent_dim}-dimensional z, the "
            f"decoder takes {k}."
        )
    z = sampler.sample(n, seed, temperature, seeds=seeds).astype(np.float32)
    return decoder_fn(decoder)(z), z


def sample_served(decoder: ModelSource, n: int, seed: int = 0, seeds=None):
    """Calls an exported decoder's own `sample` signature (the draws a TF
    Serving client gets) with the seeds `seed + i` (or `seeds`).

    Args:
        decoder: a loaded SavedModel or its path.

    Returns:
        `(images, z)`.
    """
    from vae_tf.samplers import as_seeds, row_seeds

    if isinstance(decoder, (str, os.PathLike)):
        decoder = _load_saved_model(os.fspath(decoder))
    if "sample" not in getattr(decoder, "signatures", {}):
        raise ValueError(
            "sample_served needs an exported decoder SavedModel with a "
            "'sample' signature."
        )
    seeds = row_seeds(n, seed) if seeds is None else as_seeds(seeds)
    out = decoder.signatures["sample"](seed=tf.constant(seeds, tf.int64))
    return out["image"].numpy(), out["z"].numpy()


def reconstruct(encoder: ModelSource, decoder: ModelSource, x) -> np.ndarray:
    """Decodes the posterior means of `x`; same shape as `x`."""
    return decoder_fn(decoder)(encoder_fn(encoder)(as_float_images(x)))


def interpolate(
    encoder: ModelSource, decoder: ModelSource, x_a, x_b, steps: int = 8,
    method: str = "slerp",
):
    """Images along the latent path between the codes of `x_a` and `x_b`.

    Args:
        x_a, x_b: single images `(H, W, C)` or batches `(n, H, W, C)`.
        steps: points on the path, endpoints included (>= 2).
        method: one of `vae_tf.interpolation.INTERPOLATIONS`.

    Returns:
        `(images, z)`: `(n, steps, H, W, C)` and `(n, steps, K)`.
    """
    if method not in INTERPOLATIONS:
        raise ValueError(
            f"Unknown method {method!r}. Choose one of: "
            f"{', '.join(INTERPOLATIONS)}"
        )
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"Expected steps >= 2. Received: steps={steps!r}")
    x_a, x_b = as_float_images(x_a), as_float_images(x_b)
    if x_a.ndim == 3:
        x_a, x_b = x_a[None], x_b[None]
    if x_a.shape != x_b.shape:
        raise ValueError(
            f"x_a and x_b must have the same shape: {x_a.shape} vs {x_b.shape}"
        )
    encode = encoder_fn(encoder)
    za, zb = encode(x_a), encode(x_b)
    t = np.linspace(0.0, 1.0, steps)
    path = lerp if method == "lerp" else slerp
    z = np.stack([path(a, b, t) for a, b in zip(za, zb)])
    images = decoder_fn(decoder)(z.reshape(-1, z.shape[-1]))
    return images.reshape(z.shape[:2] + images.shape[1:]), z


def traverse(
    decoder: ModelSource, z, dims: Sequence[int], values: Sequence[float],
    encoder: Optional[ModelSource] = None,
):
    """Decodes `z` with one latent dimension at a time set to each value.

    Args:
        z: a latent `(K,)`, or an image `(H, W, C)` with `encoder` given.
        dims: latent dimensions to move, one output row each.
        values: values to set, one output column each.

    Returns:
        images `(len(dims), len(values), H, W, C)`.
    """
    z = np.asarray(z)
    if z.ndim not in (1, 3):
        raise ValueError(
            "traverse takes one latent (K,) or one image (H, W, C). "
            f"Received an array of shape {z.shape}."
        )
    if z.ndim == 3:
        if encoder is None:
            raise ValueError("traverse got an image: pass its encoder too.")
        z = encoder_fn(encoder)(as_float_images(z)[None])[0]
    z = np.asarray(z, np.float32).reshape(-1)
    k = z.shape[0]
    bad = [d for d in dims if not 0 <= int(d) < k]
    if bad:
        raise ValueError(f"Latent dims {bad} out of range for latent_dim={k}.")
    grid = np.repeat(z[None, None], len(dims), 0).repeat(len(values), 1)
    for i, d in enumerate(dims):
        grid[i, :, int(d)] = values
    images = decoder_fn(decoder)(grid.reshape(-1, k))
    return images.reshape((len(dims), len(values)) + images.shape[1:])


def attribute_vector(encoder: ModelSource, images, labels) -> np.ndarray:
    """Mean code of images with the attribute minus mean of those without.

    Args:
        images: `(n, H, W, C)`.
        labels: `(n,)` booleans or 0/1 (CelebA's -1 counts as 0).

    Returns:
        the direction, `(K,)`.
    """
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(
            f"Got {len(images)} images but {len(labels)} labels."
        )
    _with_and_without(labels > 0)
    return code_difference(encoder_fn(encoder)(as_float_images(images)),
                           labels)


def code_difference(z: np.ndarray, labels) -> np.ndarray:
    """`attribute_vector` from codes already computed: the mean of the
    rows of `z` `(n, K)` whose label is > 0 minus the mean of the others."""
    has = _with_and_without(np.asarray(labels).reshape(-1) > 0)
    return (z[has].mean(axis=0) - z[~has].mean(axis=0)).astype(np.float32)


def _with_and_without(has: np.ndarray) -> np.ndarray:
    if has.all() or not has.any():
        raise ValueError(
            "attribute_vector needs images both with and without the "
            f"attribute; got {int(has.sum())} of {len(has)} with it."
        )
    return has


def attribute_labels(values) -> np.ndarray:
    """0/1 labels of an attribute's values `(n,)`: a two-valued one at its
    larger value, any other above its median."""
    values = np.asarray(values)
    if len(np.unique(values)) <= 2:
        return (values > values.min()).astype(np.int32)
    return (values > np.median(values)).astype(np.int32)


def edit(
    encoder: ModelSource, decoder: ModelSource, x, vector,
    strengths: Sequence[float],
):
    """Adds `strength * vector` to the codes of `x` and decodes.

    Returns:
        images `(n, len(strengths), H, W, C)`; strength 0 is the plain
        reconstruction.
    """
    x = as_float_images(x)
    if x.ndim == 3:
        x = x[None]
    z = encoder_fn(encoder)(x)
    vector = np.asarray(vector, np.float32).reshape(-1)
    if vector.shape[0] != z.shape[1]:
        raise ValueError(
            f"vector has {vector.shape[0]} entries, the latent space "
            f"{z.shape[1]}."
        )
    s = np.asarray(strengths, np.float32)
    edited = z[:, None, :] + s[None, :, None] * vector[None, None, :]
    images = decoder_fn(decoder)(edited.reshape(-1, z.shape[1]))
    return images.reshape(edited.shape[:2] + images.shape[1:])
