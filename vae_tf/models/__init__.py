"""The model: the functional VAE and its pieces.

- `vae`: `build_vae`, `compile_vae`, `split_vae`, `rebuild`, ...: the
  encoder -> `Sampling` -> decoder functional model, trained with `fit`;
- `networks`: the encoder and decoder bodies, one module per
  architecture (`ARCHITECTURES`);
- `objectives`: the regularizers (`OBJECTIVES`: vae, beta-tcvae);
- `precision`: float32 / mixed bfloat16 and the CPU test behind `auto`.

Names are imported on first use (PEP 562): `VAEConfig` and the `vae-tf`
parser read `networks.ARCHITECTURES` and `precision.PRECISIONS` without
loading Keras.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {name: "vae_tf.models.vae" for name in (
    "VAEModels", "build_vae", "compile_vae", "compute_dtype", "in_precision",
    "is_calibrated", "leaf_layers", "likelihood_scale", "moments_encoder",
    "rebuild", "set_dataset_size", "split_vae")}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vae_tf.models", _EXPORTS, globals())
