"""Where generated images come from: latent samplers.

- `PriorSampler`: z ~ N(0, I), the VAE's prior.
- `MixtureSampler`: an ex-post density (Ghosh et al. 2020, "From
  Variational to Deterministic Autoencoders", arXiv:1903.12436): a
  full-covariance Gaussian mixture fitted by EM to the training set's
  `z_mean` after training. When the aggregate posterior is not N(0, I)
  (it rarely is), prior draws land where no training image is encoded;
  mixture draws land where images are.

- `FlowSampler`: a RealNVP normalizing flow over the training codes
  (`tfp.bijectors`), for densities a mixture bends badly to.

- `draws`: per-row stateless draws; `prior`: `PriorSampler`; `mixture`:
  `MixtureSampler`; `flow`: `FlowSampler`, `fit_flow`; `fitting`: EM;
  `selection`: the mixture size and the held-out choice between samplers
  (`sampler="auto"`); `storage`: `SAMPLERS` and the JSON form.

Both draw with TensorFlow's stateless ops, one integer seed per row: row i
of a draw depends on `seeds[i]` alone (`row_draws`), so a batch of seeds
gives the same rows whatever other rows it is drawn with, which is what
TF Serving's batching needs (it concatenates the rows of several requests
into one call). `vae_tf.generate.sample`, `samples.png`, `vae-tf sample`
and the exported decoder's `sample` signature all run `tf_sample`, so a
seed gives the same z everywhere; `sample(n, seed)` draws the rows of
seeds `seed, seed + 1, ..., seed + n - 1` (`row_seeds`). A sampler is
stored in a run directory as `sampler.json` (plain numbers) and baked into
the exported decoder as constants. Fitting is NumPy (no extra dependency):
k-means++ seeding, EM with a small ridge on the covariances, and the
component count chosen by the mean log-likelihood of held-out codes.
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "COMPONENT_CANDIDATES": "vae_tf.samplers.selection",
    "FlowSampler": "vae_tf.samplers.flow",
    "MixtureSampler": "vae_tf.samplers.mixture",
    "PriorSampler": "vae_tf.samplers.prior",
    "SAMPLERS": "vae_tf.samplers.storage",
    "SAMPLER_CHOICES": "vae_tf.samplers.storage",
    "fit_flow": "vae_tf.samplers.flow",
    "fit_mixture": "vae_tf.samplers.fitting",
    "load_sampler": "vae_tf.samplers.storage",
    "row_draws": "vae_tf.samplers.draws",
    "sampler_from_dict": "vae_tf.samplers.storage",
    "save_sampler": "vae_tf.samplers.storage",
    "select_mixture": "vae_tf.samplers.selection",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vae_tf.samplers", _EXPORTS, globals())
