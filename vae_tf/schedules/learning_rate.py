"""The learning rate over a run: `constant`, or `cosine` decay to 0 over
all its steps (Loshchilov & Hutter 2017, arXiv:1608.03983, without
restarts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import keras

if TYPE_CHECKING:  # annotations only: config imports the schedule names
    from vae_tf.config import VAEConfig


def learning_rate_schedule(
    config: VAEConfig, steps_per_epoch: Optional[int] = None
):
    """`config.learning_rate`, or its cosine decay over the whole run."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    if steps_per_epoch is None:
        steps_per_epoch = -(-config.num_examples // config.batch_size)
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=config.epochs * steps_per_epoch
    )
