"""Scale-out with TensorFlow's own `tf.distribute` strategies.

- `mirrored`: `tf.distribute.MirroredStrategy` over this machine's devices
  (GPUs, or logical CPU devices), synchronous data parallelism.
- `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` across
  processes/machines (currently refused: Keras 3.15's `fit` cannot reduce
  its first batch under this strategy, see `make_strategy`), configured by
  the standard `TF_CONFIG` environment variable
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


# Keras releases whose Model.fit breaks under MultiWorkerMirroredStrategy.
_KERAS_MULTIWORKER_BROKEN = ((3, 0), (3, 15))


def check_multiworker_supported() -> None:
    """Raises NotImplementedError on Keras versions where `fit` fails.

    Keras 3.0-3.15's `Model.fit` starts with `_maybe_symbolic_build`
    (keras/src/backend/tensorflow/trainer.py), which calls
    `strategy.reduce("MEAN", batch)` on the `(x, y)` batch tuple;
    MultiWorkerMirroredStrategy does not map reduce over the tuple and
    fails with "Attempt to convert a value (PerReplica...)" (reproduced
    here with 2 workers on 127.0.0.1). With image-only batches (the
    reconstruction term moved into the graph, tried and reverted) `fit`
    gets one step further and fails in `reduce_per_replica`, which reduces
    every scalar log with `strategy.reduce("MEAN", v, axis=0)`: "Invalid
    reduction dimension 0 for input with 0 dimensions". So any `fit` with
    metrics fails under this strategy on these versions.
    """
    import keras

    version = tuple(int(p) for p in keras.__version__.split(".")[:2])
    low, high = _KERAS_MULTIWORKER_BROKEN
    if low <= version <= high:
        raise NotImplementedError(
            f"--strategy multiworker does not work with Keras "
            f"{keras.__version__}: Model.fit's first step reduces the (x, y) "
            "batch tuple, which MultiWorkerMirroredStrategy cannot "
            "('Attempt to convert a value (PerReplica...)'). Use --strategy "
            "mirrored on one machine."
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
