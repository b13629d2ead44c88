"""What both clients share: the errors, the default model names, and the
`encode` / `decode` / `sample` conveniences over `predict`."""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from vae_tf._internal.seeds import as_seeds, row_seeds

# The models serving/models.config serves out of the box (the shipped
# pretrained faces preset).
DEFAULT_ENCODER = "faces_encoder"
DEFAULT_DECODER = "faces_decoder"


class ServingError(RuntimeError):
    """The server could not be reached or refused the request."""


class ModelNotFoundError(ServingError):
    """The server does not have the model, version or signature asked for."""


class _Client:
    """Shared `encode` / `decode` / `sample` conveniences."""

    def predict(self, model, inputs, signature="serving_default",
                version=None):
        raise NotImplementedError

    def encode(self, images, model: str = DEFAULT_ENCODER, sample=False,
               version: Optional[int] = None, seed: int = 0,
               conditions: Optional[Mapping] = None
               ) -> dict[str, np.ndarray]:
        """Images `(n, H, W, C)` in [0, 1] -> `z_mean`, `z_log_var`; with
        `sample`, also `z`, a posterior draw per image, image i's from
        seed `seed + i` (`encode_sample`). A conditional model also takes
        `conditions` (`condition_inputs`)."""
        images = np.asarray(images, np.float32)
        inputs = {"image": images}
        signature = "serving_default"
        if sample:
            signature = "encode_sample"
            inputs["seed"] = row_seeds(len(images), seed)
        inputs.update(condition_inputs(conditions, len(images)))
        return self.predict(model, inputs, signature, version)

    def decode(self, z, model: str = DEFAULT_DECODER,
               version: Optional[int] = None,
               conditions: Optional[Mapping] = None) -> np.ndarray:
        """Latents `(n, latent_dim)` -> images `(n, H, W, C)`; a
        conditional model also takes `conditions`
        (`condition_inputs`)."""
        z = np.asarray(z, np.float32)
        return self.predict(
            model, {"z": z, **condition_inputs(conditions, len(z))},
            "serving_default", version,
        )["image"]

    def sample(self, num_samples: Optional[int] = None, seed: int = 0,
               model: str = DEFAULT_DECODER,
               version: Optional[int] = None, seeds=None,
               conditions: Optional[Mapping] = None) -> np.ndarray:
        """Images `(n, H, W, C)` decoded from draws of the sampler the
        model was exported with (the run's fitted mixture, or N(0, I)),
        one per seed: `seed, seed + 1, ..., seed + num_samples - 1`, or
        `seeds`. Image i is the same as `vae_tf.generate.sample` gives
        for that seed, and does not depend on the other rows. A
        conditional model draws under `conditions`, e.g.
        `{"glasses": 1, "hair_color": 3}`, one value for every draw
        (`condition_inputs`)."""
        if seeds is None:
            if num_samples is None:
                raise ValueError("Expected num_samples or seeds.")
            seeds = row_seeds(num_samples, seed)
        seeds = as_seeds(seeds)
        inputs = {"seed": seeds, **condition_inputs(conditions, len(seeds))}
        return self.predict(model, inputs, "sample", version)["image"]


def condition_inputs(conditions: Optional[Mapping], rows: int
                     ) -> dict[str, np.ndarray]:
    """A conditional model's factor inputs for a request of `rows` rows:
    each factor's value (a class value such as `1` or `3`, or a number
    for a continuous factor, as `vae_tf.json`'s
    `config.condition_specs` lists them) repeated over the rows, or an
    array of one value per row; sent as float32, every factor's dtype.

    Raises:
        ValueError: a value is not a number, or an array has other than
            `rows` values.
    """
    out = {}
    for name, value in (conditions or {}).items():
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"Condition {name!r} takes numbers (class values or a "
                f"continuous value). Received: {value!r}")
        if array.ndim == 0:
            array = np.full(rows, array)
        if array.shape != (rows,):
            raise ValueError(
                f"Condition {name!r} takes one value, or one per row "
                f"({rows}). Received shape {array.shape}")
        out[name] = array.astype(np.float32)
    return out
