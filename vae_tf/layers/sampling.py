"""`Sampling`: the reparametrization trick (Kingma & Welling 2014)."""

from __future__ import annotations

import keras
from keras import ops

from vae_tf.distributions.gaussian import reparametrize

_SEED_STATE = "seed_generator_state"


@keras.saving.register_keras_serializable(package="vae_tf")
class Sampling(keras.layers.Layer):
    """Draws z = z_mean + exp(0.5 * z_log_var) * eps, eps ~ N(0, I).

    The noise is an input-independent draw, so gradients flow to `z_mean`
    and `z_log_var` through the sample. The layer owns its
    `keras.random.SeedGenerator`: a fixed `seed` gives a reproducible
    sequence of draws, and every call advances it. The generator's state is
    saved with the weights (`save_weights`, `model.keras`, the training
    backup), so a resumed run continues the same sequence of draws.

    Args:
        seed: integer seed of the layer's `SeedGenerator`, or `None`.

    Call arguments:
        inputs: a list `[z_mean, z_log_var]`.

    Input shape:
        Two tensors of shape `(batch_size, latent_dim)`.

    Output shape:
        `(batch_size, latent_dim)`.

    Example:

    >>> z = Sampling(seed=1)([keras.ops.zeros((8, 2)), keras.ops.zeros((8, 2))])
    >>> z.shape
    TensorShape([8, 2])
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (
            not isinstance(seed, int) or isinstance(seed, bool)
        ):
            raise ValueError(
                f"Expected `seed` to be an integer or None. Received: "
                f"seed={seed!r}"
            )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(
            ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
        )
        return reparametrize(z_mean, z_log_var, eps)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    # Keras saves a layer's own variables only, not its seed generators'.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[_SEED_STATE] = self.seed_generator.state

    def load_own_variables(self, store):
        # Files written before the state was saved have no entry.
        if _SEED_STATE in store.keys():
            self.seed_generator.state.assign(store[_SEED_STATE])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
