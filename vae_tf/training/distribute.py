"""Scale-out with TensorFlow's own `tf.distribute` strategies.

- `mirrored`: `tf.distribute.MirroredStrategy` over this machine's devices
  (GPUs, or logical CPU devices), synchronous data parallelism.
- `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` across
  processes/machines (Keras 3.0-3.15's `fit` fails under it,
  keras-team/keras#20585: `vae_tf.training.multiworker_fixes` works around both
  failures on those versions), configured by the standard `TF_CONFIG`
  environment variable
  (`{"cluster": {"worker": ["host:port", ...]},
  "task": {"type": "worker", "index": i}}`); worker 0 (or the `chief`
  task) is the chief.

Every worker runs the same `vae-tf train` command; the global batch
(`batch_size`) is split across replicas and gradients are all-reduced. Only
the chief writes the run directory and exports.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Optional

# TensorFlow and Keras are imported where a strategy is made, so that
# `STRATEGIES` and `worker_role` load without them (the `vae-tf` parser
# reads STRATEGIES).
STRATEGIES = ("mirrored", "multiworker")


def make_strategy(name: Optional[str]):
    """The `tf.distribute` strategy called `name`, or `None` for one device.

    Must run before other TensorFlow work in the process (collective ops
    are configured at creation).
    """
    if name is None or name == "none":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        check_multiworker_supported()
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "--strategy multiworker needs the TF_CONFIG environment "
                "variable describing the cluster and this task, e.g. "
                '{"cluster": {"worker": ["10.0.0.1:12345", '
                '"10.0.0.2:12345"]}, "task": {"type": "worker", "index": 0}}'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(
        f"Unknown strategy {name!r}. Choose one of: {', '.join(STRATEGIES)}"
    )


def check_multiworker_supported() -> None:
    """Raises NotImplementedError where `fit` would fail under the strategy:
    a Keras the fixes are for (3.0 to `multiworker_fixes.LAST_BROKEN`)
    whose private trainer functions no longer match them."""
    import keras

    from vae_tf.training import multiworker_fixes

    version = multiworker_fixes.keras_version()
    if version <= multiworker_fixes.LAST_BROKEN and not (
            multiworker_fixes.needed()):
        raise NotImplementedError(
            f"--strategy multiworker does not work with Keras "
            f"{keras.__version__}: Model.fit fails under "
            "MultiWorkerMirroredStrategy (keras-team/keras#20585) and "
            "vae_tf's work-around does not match this Keras' trainer. Use "
            "--strategy mirrored on one machine."
        )


def worker_role() -> tuple[bool, int]:
    """`(is_chief, task_index)` from `TF_CONFIG` (chief, index 0 alone)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return True, 0
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON: {err}") from None
    task = config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    has_chief = "chief" in config.get("cluster", {})
    is_chief = kind == "chief" or (
        kind == "worker" and index == 0 and not has_chief)
    return is_chief, index


def scope(strategy):
    """`strategy.scope()`, or a no-op without a strategy."""
    if strategy is None:
        return contextlib.nullcontext()
    return strategy.scope()
