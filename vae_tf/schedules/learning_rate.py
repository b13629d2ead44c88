"""The learning rate over a run: `constant`; `cosine` decay to 0 over all
its steps (Loshchilov & Hutter 2017, arXiv:1608.03983, without restarts);
or `one_cycle` (Smith & Topin 2019, arXiv:1708.07120): a linear warm-up
from `learning_rate / 25` to the peak `learning_rate` over the first 30%
of the steps, then a cosine anneal to `learning_rate / 10,000`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

import keras
from keras import ops

if TYPE_CHECKING:  # annotations only: config imports the schedule names
    from vae_tf.config import VAEConfig


@keras.saving.register_keras_serializable(package="vae_tf")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One cycle over `total_steps`: warm up to `peak`, anneal to near 0.

    Args:
        peak: the largest learning rate, reached after `warmup` of the
            steps.
        total_steps: steps of the whole run.
        warmup: fraction of the steps spent rising.
        start_factor, final_factor: the first rate is `peak /
            start_factor`, the last `peak / final_factor`.
    """

    def __init__(self, peak: float, total_steps: int, warmup: float = 0.3,
                 start_factor: float = 25.0, final_factor: float = 1e4):
        if not total_steps >= 1 or not 0 < warmup < 1 or not peak > 0:
            raise ValueError(
                "Expected peak > 0, total_steps >= 1 and 0 < warmup < 1. "
                f"Received: peak={peak}, total_steps={total_steps}, "
                f"warmup={warmup}")
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup = float(warmup)
        self.start_factor = float(start_factor)
        self.final_factor = float(final_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rise = max(1.0, self.warmup * self.total_steps)
        start = self.peak / self.start_factor
        end = self.peak / self.final_factor
        up = start + (self.peak - start) * ops.minimum(step / rise, 1.0)
        progress = ops.clip((step - rise) / max(1.0, self.total_steps - rise),
                            0.0, 1.0)
        down = end + (self.peak - end) * 0.5 * (
            1.0 + ops.cos(math.pi * progress))
        return ops.where(step < rise, up, down)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup": self.warmup, "start_factor": self.start_factor,
                "final_factor": self.final_factor}


def learning_rate_schedule(
    config: VAEConfig, steps_per_epoch: Optional[int] = None
):
    """`config.learning_rate`, or its schedule over the whole run."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    if steps_per_epoch is None:
        kind = config.data.partition(":")[0]
        if kind not in ("faces", "shapes"):
            # num_examples counts only procedural data: a guess here ends
            # the schedule early (or late) and training silently stalls.
            raise ValueError(
                f"lr_schedule={config.lr_schedule!r} runs over epochs x "
                f"steps_per_epoch steps, and for data={config.data!r} the "
                "steps per epoch are not known: pass compile_vae(..., "
                "steps_per_epoch=ceil(len(train_images) / batch_size)), "
                "or use lr_schedule='constant'.")
        steps_per_epoch = -(-config.num_examples // config.batch_size)
    total = config.epochs * steps_per_epoch
    if config.lr_schedule == "one_cycle":
        return OneCycle(config.learning_rate, total)
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=total
    )
