"""A faithful re-implementation of the official Keras "Variational
AutoEncoder" code example (keras-io, examples/generative/vae.py): a
subclassed `keras.Model` with a custom `train_step`, two stride-2 Conv2D
layers, Dense 16, latent_dim 2 and a Conv2DTranspose decoder with a
sigmoid output; reconstruction loss = binary cross-entropy summed over
pixels, KL summed over latent dimensions, both averaged over the batch.

The same layers are exposed as encoder/decoder *bodies* so vae_tf can
build the identical architecture for a side-by-side comparison.
"""

import keras
import tensorflow as tf
from keras import layers, ops

LATENT_DIM = 2


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim),
                                      seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def encoder_body(x, config=None):
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    return layers.Dense(16, activation="relu")(x)


def decoder_body(z, config=None, activation="sigmoid"):
    x = layers.Dense(7 * 7 * 64, activation="relu")(z)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2,
                               padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2,
                               padding="same")(x)
    return layers.Conv2DTranspose(1, 3, activation=activation,
                                  padding="same")(x)


def build_encoder_decoder(latent_dim=LATENT_DIM):
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    h = encoder_body(encoder_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z],
                          name="encoder")
    latent_inputs = keras.Input(shape=(latent_dim,))
    decoder = keras.Model(latent_inputs, decoder_body(latent_inputs),
                          name="decoder")
    return encoder, decoder


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker,
                self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction),
                        axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean)
                              - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}
