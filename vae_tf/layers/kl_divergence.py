"""`KLDivergence`: the beta-weighted KL regularizer as a layer loss."""

from __future__ import annotations

import keras
from keras import ops

from vae_tf.distributions.gaussian import kl_per_dimension


@keras.saving.register_keras_serializable(package="vae_tf")
class KLDivergence(keras.layers.Layer):
    """Identity on `[z_mean, z_log_var]` that adds `beta * |KL - C|` as loss.

    KL is KL(N(z_mean, exp(z_log_var)) || N(0, I)) summed over latent
    dimensions and averaged over the batch (nats per image). `beta` and the
    capacity `C` (nats; Burgess et al. 2018, arXiv:1804.03599) are
    non-trainable variables, so callbacks can schedule them during `fit`.
    With `capacity=0` the loss is the plain `beta * KL` (beta-VAE, Higgins et
    al. 2017). The unweighted KL is tracked as the metric `kl`, which Keras
    reports in the `fit` history (`kl`, `val_kl`).

    With `free_bits` (lambda, nats per latent dimension; Kingma et al.
    2016, arXiv:1606.04934) the loss counts each dimension's batch-mean KL
    as at least lambda, so no dimension is pushed below it (the tracked
    `kl` stays the true KL).

    Args:
        beta: initial KL weight, `>= 0`.
        capacity: initial target KL `C` in nats, `>= 0`.
        free_bits: KL per dimension the loss does not penalise, `>= 0`.

    Call arguments:
        inputs: a list `[z_mean, z_log_var]`.

    Input shape:
        Two tensors of shape `(batch_size, latent_dim)`.

    Output shape:
        The same two tensors, unchanged.
    """

    def __init__(self, beta: float = 1.0, capacity: float = 0.0,
                 free_bits: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("beta", beta), ("capacity", capacity),
                            ("free_bits", free_bits)):
            if not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(
                    f"Expected `{name}` to be a number >= 0. Received: "
                    f"{name}={value!r}"
                )
        self._initial_beta = float(beta)
        self._initial_capacity = float(capacity)
        self.free_bits = float(free_bits)
        self.beta = self.add_weight(
            name="beta", shape=(), trainable=False,
            initializer=keras.initializers.Constant(self._initial_beta),
        )
        self.capacity = self.add_weight(
            name="capacity", shape=(), trainable=False,
            initializer=keras.initializers.Constant(self._initial_capacity),
        )
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def call(self, inputs):
        z_mean, z_log_var = inputs
        per_dimension = ops.mean(kl_per_dimension(z_mean, z_log_var), axis=0)
        kl = ops.sum(per_dimension)
        penalised = kl
        if self.free_bits:
            penalised = ops.sum(ops.maximum(per_dimension, self.free_bits))
        self.add_loss(self.beta * ops.abs(penalised - self.capacity))
        self.kl_tracker.update_state(kl)
        return [z_mean, z_log_var]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "beta": self._initial_beta,
            "capacity": self._initial_capacity,
            "free_bits": self.free_bits,
        }
