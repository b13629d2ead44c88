"""`TotalCorrelation`: the beta-TCVAE regularizer as a layer loss."""

from __future__ import annotations

import keras

from vae_tf.distributions.kl_decomposition import kl_decomposition


@keras.saving.register_keras_serializable(package="vae_tf")
class TotalCorrelation(keras.layers.Layer):
    """Identity on `z` that adds the beta-TCVAE regularizer as loss:

        mi_weight * MI + tc_weight * TC + dim_kl_weight * dimension-wise KL

    the KL term split into index-code mutual information, total
    correlation and dimension-wise KL (Chen et al. 2018; estimated per
    batch by minibatch stratified sampling,
    `vae_tf.distributions.kl_decomposition`), in nats per image. With all
    three weights 1 it is a (noisier) estimate of the plain KL; a
    `tc_weight` above 1 pushes q(z) towards independent dimensions. The
    three terms are tracked as the metrics `mutual_information`,
    `total_correlation` and `dimension_kl` (history and TensorBoard).

    Args:
        dataset_size: N, the number of training images, `>= 1`: the
            estimator weighs each batch's own image 1/N. `train` sets it
            to the training split's size (the variable `dataset_size`).
        tc_weight: the total correlation's weight, `>= 0`.
        mi_weight, dim_kl_weight: the other two terms' weights, `>= 0`.

    Call arguments:
        inputs: a list `[z_mean, z_log_var, z]`, each
            `(batch_size, latent_dim)`.

    Output shape:
        `z`, unchanged.
    """

    def __init__(self, dataset_size: int = 10000, tc_weight: float = 6.0,
                 mi_weight: float = 1.0, dim_kl_weight: float = 1.0,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("tc_weight", tc_weight),
                            ("mi_weight", mi_weight),
                            ("dim_kl_weight", dim_kl_weight)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not value >= 0:
                raise ValueError(
                    f"Expected `{name}` to be a number >= 0. Received: "
                    f"{name}={value!r}")
        if isinstance(dataset_size, bool) or not isinstance(
                dataset_size, int) or dataset_size < 1:
            raise ValueError(
                "Expected `dataset_size` to be an integer >= 1 (the number "
                f"of training images). Received: dataset_size="
                f"{dataset_size!r}")
        self.tc_weight = float(tc_weight)
        self.mi_weight = float(mi_weight)
        self.dim_kl_weight = float(dim_kl_weight)
        self._initial_dataset_size = int(dataset_size)
        self.dataset_size = self.add_weight(
            name="dataset_size", shape=(), trainable=False,
            initializer=keras.initializers.Constant(float(dataset_size)),
        )
        self.mi_tracker = keras.metrics.Mean(name="mutual_information")
        self.tc_tracker = keras.metrics.Mean(name="total_correlation")
        self.dim_kl_tracker = keras.metrics.Mean(name="dimension_kl")

    def call(self, inputs):
        z_mean, z_log_var, z = inputs
        mi, tc, dim_kl = kl_decomposition(z, z_mean, z_log_var,
                                          self.dataset_size)
        self.add_loss(self.mi_weight * mi + self.tc_weight * tc
                      + self.dim_kl_weight * dim_kl)
        self.mi_tracker.update_state(mi)
        self.tc_tracker.update_state(tc)
        self.dim_kl_tracker.update_state(dim_kl)
        return z

    def compute_output_shape(self, input_shape):
        return input_shape[2]

    def get_config(self):
        return {
            **super().get_config(),
            "dataset_size": self._initial_dataset_size,
            "tc_weight": self.tc_weight,
            "mi_weight": self.mi_weight,
            "dim_kl_weight": self.dim_kl_weight,
        }
