"""Custom Keras layers of the VAE graph."""

from vae_tf.layers.calibrated_scale import CalibratedScale
from vae_tf.layers.kl_divergence import KLDivergence
from vae_tf.layers.sampling import Sampling
from vae_tf.layers.soft_clip import SoftClip
from vae_tf.layers.subpixel import SubPixelConv2DTranspose

__all__ = ["CalibratedScale", "KLDivergence", "Sampling", "SoftClip",
           "SubPixelConv2DTranspose"]
