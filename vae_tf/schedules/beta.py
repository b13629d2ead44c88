"""Beta schedules as Keras callbacks, updated every training step.

Each callback writes the `beta` (or `capacity`) variable of every
`KLDivergence` layer in the model, from the optimizer's step counter, so
the schedule survives `BackupAndRestore` resumes. The current value is
added to the epoch logs (`beta`, `capacity`).

- `LinearBetaWarmup`: beta from 0 to `beta_max` over `warmup_steps`
  (Bowman et al. 2016, arXiv:1511.06349).
- `CyclicalBeta`: cyclical annealing (Fu et al. 2019, arXiv:1903.10145):
  the run is split into `num_cycles` cycles; in each, beta rises linearly
  from 0 to `beta_max` during the first `ratio` of the cycle, then holds.
- `CapacitySchedule`: the loss `beta * |KL - C|` with the capacity `C`
  raised linearly from 0 to `capacity_max` nats over `capacity_steps`
  (Burgess et al. 2018, arXiv:1804.03599).
"""

from __future__ import annotations

import keras

from vae_tf.layers import KLDivergence


def kl_layers(model: keras.Model) -> list[KLDivergence]:
    """All `KLDivergence` layers of `model`, nested models included."""
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, KLDivergence):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


class _KLSchedule(keras.callbacks.Callback):
    """Sets `variable` of every KL layer to `value(step)` before each step."""

    variable = "beta"

    def value(self, step: int) -> float:
        raise NotImplementedError

    def _layers(self):
        layers = kl_layers(self.model)
        if not layers:
            raise ValueError(
                f"{type(self).__name__} needs a model with a KLDivergence "
                "layer; none found."
            )
        return layers

    def on_train_begin(self, logs=None):
        self._kl = self._layers()

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        value = float(self.value(step))
        for layer in self._kl:
            getattr(layer, self.variable).assign(value)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._kl:
            logs[self.variable] = float(
                getattr(self._kl[0], self.variable).numpy()
            )


class LinearBetaWarmup(_KLSchedule):
    """beta = beta_max * min(1, step / warmup_steps)."""

    def __init__(self, warmup_steps: int, beta_max: float = 1.0):
        super().__init__()
        if warmup_steps <= 0:
            raise ValueError(
                f"Expected warmup_steps > 0. Received: {warmup_steps}"
            )
        self.warmup_steps = warmup_steps
        self.beta_max = beta_max

    def value(self, step: int) -> float:
        return self.beta_max * min(1.0, step / self.warmup_steps)


class CyclicalBeta(_KLSchedule):
    """Fu et al. 2019: `num_cycles` linear ramps over `total_steps`."""

    def __init__(
        self, total_steps: int, num_cycles: int = 4, ratio: float = 0.5,
        beta_max: float = 1.0,
    ):
        super().__init__()
        if total_steps <= 0 or num_cycles <= 0 or not 0 < ratio <= 1:
            raise ValueError(
                "Expected total_steps > 0, num_cycles > 0 and 0 < ratio <= 1."
                f" Received: total_steps={total_steps}, "
                f"num_cycles={num_cycles}, ratio={ratio}"
            )
        self.cycle = total_steps / num_cycles
        self.ratio = ratio
        self.beta_max = beta_max

    def value(self, step: int) -> float:
        phase = (step % self.cycle) / self.cycle
        return self.beta_max * min(1.0, phase / self.ratio)


class CapacitySchedule(_KLSchedule):
    """C = capacity_max * min(1, step / capacity_steps); beta stays fixed."""

    variable = "capacity"

    def __init__(self, capacity_max: float, capacity_steps: int):
        super().__init__()
        if capacity_max < 0 or capacity_steps <= 0:
            raise ValueError(
                "Expected capacity_max >= 0 and capacity_steps > 0. Received:"
                f" capacity_max={capacity_max}, capacity_steps={capacity_steps}"
            )
        self.capacity_max = capacity_max
        self.capacity_steps = capacity_steps

    def value(self, step: int) -> float:
        return self.capacity_max * min(1.0, step / self.capacity_steps)


def schedule_callbacks(
    config, steps_per_epoch: int
) -> list[keras.callbacks.Callback]:
    """The callback `config.beta_schedule` asks for (empty for constant);
    `vae_tf.schedules.BETA_SCHEDULES` lists the names."""
    if config.beta_schedule == "linear":
        return [LinearBetaWarmup(config.warmup_steps, config.beta)]
    if config.beta_schedule == "cyclical":
        return [CyclicalBeta(
            steps_per_epoch * config.epochs, config.num_cycles,
            config.cycle_ratio, config.beta,
        )]
    if config.beta_schedule == "capacity":
        return [CapacitySchedule(config.capacity_max, config.capacity_steps)]
    return []
