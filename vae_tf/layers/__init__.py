"""Custom Keras layers of the VAE graph."""

from vae_tf.layers.calibrated_scale import CalibratedScale
from vae_tf.layers.kl_divergence import KLDivergence
from vae_tf.layers.sampling import Sampling
from vae_tf.layers.soft_clip import SoftClip
from vae_tf.layers.subpixel import SubPixelConv2DTranspose
from vae_tf.layers.total_correlation import TotalCorrelation

__all__ = ["CalibratedScale", "KLDivergence", "Sampling", "SoftClip",
           "SubPixelConv2DTranspose", "TotalCorrelation"]
