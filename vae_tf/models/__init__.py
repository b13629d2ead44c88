"""Model builders."""

from vae_tf.models.vae import (VAEModels, build_vae, compile_vae,
                               is_calibrated, likelihood_scale,
                               moments_encoder, split_vae)

__all__ = ["VAEModels", "build_vae", "compile_vae", "is_calibrated",
           "likelihood_scale", "moments_encoder", "split_vae"]
