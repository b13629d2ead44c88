"""What changes over a training run: the KL weight beta (or the KL
capacity) and the learning rate.

- Beta schedules (`BETA_SCHEDULES`, Keras callbacks in
  `vae_tf.schedules.beta`): `constant`, `linear` warm-up, `cyclical`
  annealing, and `capacity` (beta fixed, the KL target C raised).
- Learning-rate schedules (`LR_SCHEDULES`, `vae_tf.schedules.learning_rate`):
  `constant`, `cosine` decay over the run, or `one_cycle` (warm-up to a
  peak, then anneal).

The names and the values at step 0 are defined here without Keras, so
`VAEConfig` and the `vae-tf` parser read them cheaply; the callbacks and
the Keras schedule are imported on first use (PEP 562).
"""

from __future__ import annotations

from vae_tf._internal.lazy import lazy_exports

BETA_SCHEDULES = ("constant", "linear", "cyclical", "capacity")
LR_SCHEDULES = ("constant", "cosine", "one_cycle")


def initial_kl_weights(config) -> tuple[float, float]:
    """`(beta, capacity)` a model built from `config` starts with: each
    schedule's value at step 0 (warm-up and cyclical beta start at 0, the
    capacity at 0 nats), so an evaluation before the first step, or a
    custom `fit` without the callback, sees what training would."""
    if config.beta_schedule in ("linear", "cyclical"):
        return 0.0, 0.0
    return config.beta, 0.0


_EXPORTS = {
    "CapacitySchedule": "vae_tf.schedules.beta",
    "CyclicalBeta": "vae_tf.schedules.beta",
    "LinearBetaWarmup": "vae_tf.schedules.beta",
    "OneCycle": "vae_tf.schedules.learning_rate",
    "kl_layers": "vae_tf.schedules.beta",
    "learning_rate_schedule": "vae_tf.schedules.learning_rate",
    "schedule_callbacks": "vae_tf.schedules.beta",
}

__all__ = sorted([*_EXPORTS, "BETA_SCHEDULES", "LR_SCHEDULES",
                  "initial_kl_weights"])

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
