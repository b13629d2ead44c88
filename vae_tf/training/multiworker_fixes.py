"""Work-arounds for Keras' `Model.fit` under MultiWorkerMirroredStrategy.

Keras 3.0-3.15 (at least; upstream report keras-team/keras#20585, open
when this was written) fail two ways when `fit` runs under
`tf.distribute.MultiWorkerMirroredStrategy`, both in
`keras/src/backend/tensorflow/trainer.py`:

1. `TensorFlowTrainer._maybe_symbolic_build` takes the first distributed
   batch and calls `strategy.reduce("MEAN", batch, axis=None)` on the whole
   `(x, y)` tuple, only to learn its shapes for `_symbolic_build`; the
   collective strategy cannot reduce a tuple of PerReplica values
   ("Attempt to convert a value (PerReplica...)"). Fix: take the batch
   this worker holds (its first local replica's value); a batch of the
   right structure and shapes is all `_symbolic_build` needs.
2. `reduce_per_replica` reduces every log under a multi-worker strategy
   with `strategy.reduce("MEAN", v, axis=0)`, which fails on the scalar
   losses and metrics ("Invalid reduction dimension 0 for input with 0
   dimensions"). Fix: reduce rank-0 values with `axis=None` (the mean over
   replicas, which is what a scalar mean log means); every other value
   goes to Keras' own function unchanged.

`fit_fixes(model)` applies both for the duration of a `with` block,
after `check_supported()`: Keras >= 3.0 and <= `LAST_BROKEN` (the [tf]
extra pins `keras<3.16` to match), with the private functions patched
here present. Any other Keras refuses multi-worker training with a
message (`UnsupportedKerasError`) instead of running unpatched: whether a
newer Keras still fails is unknown until tests/training/test_distribute.py's
two-worker test runs on it; then raise `LAST_BROKEN` (or drop the fixes)
and the pin together.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from vae_tf.config import ConfigError

LAST_BROKEN = (3, 15)  # the newest Keras verified to need the fixes


def keras_version() -> tuple[int, int]:
    import keras

    major, minor = keras.__version__.split(".")[:2]
    return int(major), int(minor)


def _trainer_module():
    from keras.src.backend.tensorflow import trainer

    return trainer


class UnsupportedKerasError(ConfigError):
    """Multi-worker training on a Keras the fixes were not verified on (a
    `ConfigError`: the command line prints it as one line)."""


def check_supported() -> None:
    """Raises `UnsupportedKerasError` unless `needed()`: the fixes fit
    this Keras, the one multi-worker training was verified on."""
    if needed():
        return
    import keras

    raise UnsupportedKerasError(
        f"Multi-worker training was verified on Keras 3.0-"
        f"{LAST_BROKEN[0]}.{LAST_BROKEN[1]}, whose Model.fit needs vae_tf's "
        f"fixes (keras-team/keras#20585); this is Keras {keras.__version__}"
        f", untested. Install the pinned version (pip install "
        f"'keras>={LAST_BROKEN[0]}.{LAST_BROKEN[1]},<{LAST_BROKEN[0]}."
        f"{LAST_BROKEN[1] + 1}'), or train on one worker.")


def needed() -> bool:
    """Whether this Keras is one the fixes are for (and they still fit)."""
    if not (3, 0) <= keras_version() <= LAST_BROKEN:
        return False
    trainer = _trainer_module()
    return (hasattr(trainer, "reduce_per_replica")
            and hasattr(trainer, "_collective_all_reduce_multi_worker")
            and hasattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build"))


def _local_batch(batch, strategy):
    """This worker's value of each distributed tensor in `batch`."""
    import keras
    import tensorflow as tf

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    return keras.tree.map_structure(local, batch)


def _symbolic_build_from_local_batch(model, iterator=None, data_batch=None):
    """`_maybe_symbolic_build` without the cross-worker reduce (fix 1)."""
    strategy = model.distribute_strategy
    if iterator is not None:
        for _, _, it in iterator:
            data_batch = _local_batch(next(it), strategy)
            break
    with strategy.scope():
        model._symbolic_build(data_batch=data_batch)


def _scalar_safe_reduce(original, trainer):
    """Keras' `reduce_per_replica`, with rank-0 multi-worker values
    reduced over replicas only (fix 2)."""
    import keras
    import tensorflow as tf

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not (
                trainer._collective_all_reduce_multi_worker(strategy)):
            return original(values, strategy, reduction)

        def reduce(value):
            # With one device per worker, `strategy.run` returns plain
            # tensors, not PerReplica values.
            local = (value.values[0] if isinstance(
                value, tf.distribute.DistributedValues) else value)
            if getattr(local, "shape", None) is not None and (
                    local.shape.rank == 0):
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return keras.tree.map_structure(reduce, values)

    return reduce_per_replica


@contextlib.contextmanager
def fit_fixes(model) -> Iterator[None]:
    """Lets `model.fit`/`evaluate` run under MultiWorkerMirroredStrategy
    on the Keras versions of `needed()`; raises `UnsupportedKerasError` on
    any other. Restores Keras' functions on exit."""
    check_supported()
    trainer = _trainer_module()
    original = trainer.reduce_per_replica
    trainer.reduce_per_replica = _scalar_safe_reduce(original, trainer)
    model._maybe_symbolic_build = (
        lambda iterator=None, data_batch=None:
        _symbolic_build_from_local_batch(model, iterator, data_batch))
    try:
        yield
    finally:
        trainer.reduce_per_replica = original
        del model._maybe_symbolic_build
