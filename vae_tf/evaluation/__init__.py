"""Evaluation: what `vae-tf evaluate` reports.

- `report`: `evaluate_run`, the JSON report (-ELBO, IWAE, KL per
  dimension, active units, MIG, DCI, SAP, sample quality);
- `metrics`: one metric per module, pure functions on arrays (`elbo`,
  `iwae`, `active_units`, `mig`, `dci`, `sap`, `frechet`);
- `probe`: the per-data-set probe network that reads the factors back
  (the feature space of the Frechet distances, as Inception is for FID);
- `quality`: the report's sample-quality section and `edit_effect`.

Names are imported on first use (PEP 562).
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

_EXPORTS = {
    "dci": "vae_tf.evaluation.metrics",
    "evaluate_run": "vae_tf.evaluation.report",
    "mutual_information_gap": "vae_tf.evaluation.metrics",
    "sample_quality": "vae_tf.evaluation.quality",
    "separated_attribute_predictability": "vae_tf.evaluation.metrics",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vae_tf.evaluation", _EXPORTS,
                                    globals())
