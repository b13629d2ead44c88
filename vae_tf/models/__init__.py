"""Model builders."""

from vae_tf.models.vae import (VAEModels, build_vae, compile_vae,
                               compute_dtype, in_precision, is_calibrated,
                               leaf_layers, likelihood_scale,
                               moments_encoder, rebuild, split_vae)

__all__ = ["VAEModels", "build_vae", "compile_vae", "compute_dtype",
           "in_precision", "is_calibrated", "leaf_layers",
           "likelihood_scale",
           "moments_encoder", "rebuild", "split_vae"]
