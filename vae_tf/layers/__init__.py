"""Custom Keras layers of the VAE graph."""

from vae_tf.layers.kl_divergence import KLDivergence
from vae_tf.layers.sampling import Sampling

__all__ = ["KLDivergence", "Sampling"]
