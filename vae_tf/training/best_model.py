"""`BestModel`: the best validation model kept beside the last one, and
early stopping on it (`vae-tf train --early-stopping PATIENCE`).

After each epoch whose validation loss (`val_loss`, the -ELBO in nats per
image when beta is 1) is lower than every earlier epoch's, the weights are
kept, and saved as `best.keras` in the run directory (atomically). With a
patience, training stops once that many epochs pass without a new best,
and the best weights are put back into the model at the end, so
`model.keras`, the sampler and the pictures come from the best epoch; the
choice is recorded in `best.json` (best epoch, its `val_loss`, the epoch
training stopped after, the patience, whether weights were restored).

A resumed run reads its earlier epochs from `history.csv`, so the best
and the patience count carry over a crash; the best weights of an epoch
before the crash come from `best.keras`.
"""

from __future__ import annotations

import json
import math
from typing import Optional

import keras
import numpy as np

from vae_tf._internal import io_utils

MONITOR = "val_loss"


class BestModel(keras.callbacks.Callback):
    """Tracks the lowest `val_loss`; see the module docstring.

    Args:
        path: where the best model is saved (`.keras`), or `None` to keep
            it in memory only; its record goes beside it (`.json`).
        patience: epochs without a new best before training stops, and
            the best weights are restored at the end; `None` never stops
            or restores.
        previous: the `val_loss` of the epochs before this `fit` (a
            resumed run's `history.csv`).
    """

    def __init__(self, path: Optional[str] = None,
                 patience: Optional[int] = None, previous=()):
        super().__init__()
        if patience is not None and (
                not isinstance(patience, int) or patience < 1):
            raise ValueError(
                "Expected early stopping patience >= 1 epochs. Received: "
                f"patience={patience!r}")
        self.path, self.patience = path, patience
        self.best, self.best_epoch, self.wait = math.inf, None, 0
        self.stopped_epoch, self.restored = None, False
        self._weights = None  # the best's, when reached in this process
        previous = [float(v) for v in previous]
        finite = [v for v in previous if math.isfinite(v)]
        if finite:
            self.best = min(finite)
            self.best_epoch = previous.index(self.best)
            self.wait = len(previous) - 1 - self.best_epoch

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        loss = float((logs or {}).get(MONITOR, math.nan))
        if math.isfinite(loss) and loss < self.best:
            self.best, self.best_epoch, self.wait = loss, epoch, 0
            self._weights = self.model.get_weights()
            if self.path is not None:
                from vae_tf.runs import save_model

                save_model(self.model, self.path, include_optimizer=False)
            return
        self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.patience is not None and self.best_epoch is not None:
            weights = self._weights
            if weights is None and self.path is not None:
                from vae_tf.runs import load_model

                weights = load_model(self.path).get_weights()
            if weights is not None:
                self.model.set_weights(weights)
                self.restored = True
        if self.path is not None and self.best_epoch is not None:
            from vae_tf.runs import record_path

            io_utils.atomic_write_text(
                record_path(self.path), json.dumps(self.record(), indent=2))

    def record(self) -> dict:
        """What `best.json` holds (epochs counted from 1)."""
        return {
            "monitor": MONITOR,
            "best_epoch": None if self.best_epoch is None
            else self.best_epoch + 1,
            "best_val_loss": None if not np.isfinite(self.best)
            else self.best,
            "patience": self.patience,
            "stopped_after_epoch": None if self.stopped_epoch is None
            else self.stopped_epoch + 1,
            "restored_best_weights": self.restored,
        }


def check_patience(patience, strategy: Optional[str]) -> Optional[int]:
    """`patience` for `BestModel`; `ConfigError` for a bad value, or under
    multiworker (one worker stopping alone would hang the others)."""
    from vae_tf.config import ConfigError

    if patience is not None and (isinstance(patience, bool) or not
                                 isinstance(patience, int) or patience < 1):
        raise ConfigError("Expected early stopping patience >= 1 epochs. "
                          f"Received: early_stopping={patience!r}")
    if patience is not None and strategy == "multiworker":
        raise ConfigError("Early stopping is not supported with "
                          "--strategy multiworker; train without it.")
    return patience


def previous_val_loss(paths, resumed: bool) -> list[float]:
    """A resumed run's earlier `val_loss` values (`history.csv`)."""
    if not resumed or paths is None:
        return []
    from vae_tf.runs import read_history

    return read_history(paths.history).get("val_loss", [])
