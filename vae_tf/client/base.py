"""What both clients share: the errors, the default model names, and the
`encode` / `decode` / `sample` conveniences over `predict`."""

from __future__ import annotations

from typing import Optional

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
               version: Optional[int] = None, seed: int = 0
               ) -> dict[str, np.ndarray]:
        """Images `(n, H, W, C)` in [0, 1] -> `z_mean`, `z_log_var`; with
        `sample`, also `z`, a posterior draw per image, image i's from
        seed `seed + i` (`encode_sample`)."""
        images = np.asarray(images, np.float32)
        inputs = {"image": images}
        signature = "serving_default"
        if sample:
            signature = "encode_sample"
            inputs["seed"] = row_seeds(len(images), seed)
        return self.predict(model, inputs, signature, version)

    def decode(self, z, model: str = DEFAULT_DECODER,
               version: Optional[int] = None) -> np.ndarray:
        """Latents `(n, latent_dim)` -> images `(n, H, W, C)`."""
        return self.predict(
            model, {"z": np.asarray(z, np.float32)}, "serving_default",
            version,
        )["image"]

    def sample(self, num_samples: Optional[int] = None, seed: int = 0,
               model: str = DEFAULT_DECODER,
               version: Optional[int] = None, seeds=None) -> np.ndarray:
        """Images `(n, H, W, C)` decoded from draws of the sampler the
        model was exported with (the run's fitted mixture, or N(0, I)),
        one per seed: `seed, seed + 1, ..., seed + num_samples - 1`, or
        `seeds`. Image i is the same as `vae_tf.generate.sample` gives
        for that seed, and does not depend on the other rows."""
        if seeds is None:
            if num_samples is None:
                raise ValueError("Expected num_samples or seeds.")
            seeds = row_seeds(num_samples, seed)
        return self.predict(model, {"seed": as_seeds(seeds)}, "sample",
                            version)["image"]
