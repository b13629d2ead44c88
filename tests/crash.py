"""Crash a training run after its first epoch and rerun it: the shared
steps of the resume tests."""

import keras
import pytest

from vae_tf import train


class _Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("planted crash")


class _Epochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)


def crash_then_resume(config, out: str):
    """Trains `config` into `out`, crashing before epoch 1, then reruns
    the same call. Returns `(epochs the rerun ran, its TrainResult)`."""
    with pytest.raises(RuntimeError, match="planted crash"):
        train(config, out_dir=out, verbose=0, callbacks=[_Crash()])
    epochs = _Epochs()
    result = train(config, out_dir=out, verbose=0, callbacks=[epochs])
    return epochs.seen, result
