"""`PriorSampler`: z ~ N(0, I), the VAE's prior."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vae_tf._internal.seeds import as_seeds, row_seeds
from vae_tf.samplers.draws import temperature_column, row_draws

if TYPE_CHECKING:
    import tensorflow as tf


class PriorSampler:
    """z ~ N(0, temperature^2 I), `(n, latent_dim)`."""

    kind = "prior"

    def __init__(self, latent_dim: int):
        self.latent_dim = int(latent_dim)

    def tf_sample(self, seeds, temperature=1.0, conditions=None
                  ) -> tf.Tensor:
        """Graph-friendly draw: one row `(latent_dim,)` per int64 seed of
        `seeds` `(n,)`; `temperature` a scalar or `(n,)`; `conditions`
        (a conditional model's encoded condition rows, `{factor: (n,
        width)}`) are used by samplers fitted with them
        (`MixtureSampler.condition_tables`), ignored here."""
        eps, _ = row_draws(seeds, self.latent_dim)
        return eps * temperature_column(temperature)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0,
               seeds=None, conditions=None) -> np.ndarray:
        """`(n, latent_dim)` float32 draws, row i from seed `seed + i` (or
        from `seeds[i]` when given; `n` must then equal `len(seeds)`),
        under encoded `conditions` rows (see `tf_sample`)."""
        import tensorflow as tf

        if seeds is None:
            seeds = row_seeds(n, seed)
        else:
            seeds = as_seeds(seeds)
            if len(seeds) != n:
                raise ValueError(
                    f"Expected one seed per row: n={n}, {len(seeds)} seeds.")
        if conditions is not None:
            conditions = {k: tf.constant(np.asarray(v, np.float32))
                          for k, v in conditions.items()}
        return self.tf_sample(tf.constant(seeds, tf.int64), temperature,
                              conditions).numpy()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "latent_dim": self.latent_dim}
