"""What a continuous latent space is for: sample, reconstruct, interpolate,
traverse, and edit images along attribute directions.

Every function takes the encoder and/or decoder as a Keras model, a loaded
SavedModel (`tf.saved_model.load`, as exported by `vae_tf.export`), or the
path of an exported model (base path or version folder). Images are float32
`(n, H, W, C)` in [0, 1]; uint8 inputs are scaled by 1/255.

- `sources`: any of those forms as an `array -> array` function;
- `sampling`: `sample`, `sample_served`;
- `latents`: `reconstruct`, `reconstruct_images` (from a `VAEModels`, in
  the input's range), `interpolate`, `traverse`;
- `attributes`: `attribute_vector`, `edit`, `attribute_labels`,
  `code_difference`, `best_dimension_vector`;
- `interpolation`: `slerp` / `lerp` paths in NumPy (`INTERPOLATIONS`).

Names are imported on first use (PEP 562): the `vae-tf` parser reads
`interpolation.INTERPOLATIONS` without loading TensorFlow.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "INTERPOLATIONS": "vae_tf.generate.interpolation",
    "ModelSource": "vae_tf.generate.sources",
    "attribute_labels": "vae_tf.generate.attributes",
    "attribute_vector": "vae_tf.generate.attributes",
    "best_dimension_vector": "vae_tf.generate.attributes",
    "code_difference": "vae_tf.generate.attributes",
    "decoder_fn": "vae_tf.generate.sources",
    "edit": "vae_tf.generate.attributes",
    "encoder_fn": "vae_tf.generate.sources",
    "interpolate": "vae_tf.generate.latents",
    "latent_dim_of": "vae_tf.generate.sources",
    "lerp": "vae_tf.generate.interpolation",
    "reconstruct": "vae_tf.generate.latents",
    "reconstruct_images": "vae_tf.generate.latents",
    "sample": "vae_tf.generate.sampling",
    "sample_served": "vae_tf.generate.sampling",
    "slerp": "vae_tf.generate.interpolation",
    "traverse": "vae_tf.generate.latents",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vae_tf.generate", _EXPORTS, globals())
