"""The run users make: the default `vae-tf train` configuration's speed.

Trains `VAEConfig()` (faces, conv 32-64-64-64, batch 32, one-cycle 3e-3,
precision auto) on the default 10,000 faces for `--epochs` epochs with
the trainer's own input pipeline (`make_training_dataset`), and reports
images/s over the epochs after the first (tracing and warm-up), the
training FLOPs per image, and the share of the ceiling of the precision
it computes in (`flops.ceilings`, measured in the same run afterwards).

With `--trace DIR`, one more epoch runs under TensorFlow's profiler
after the timed ones and its busy time per op type is printed (needs
`pip install 'vae_tf[benchmarks]'`).

    python benchmarks/default_run.py [--epochs 3] [--precision auto]
    python benchmarks/default_run.py --trace /tmp/default_trace
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import keras  # noqa: E402

from flops import ceiling_for, ceilings, training_flops_per_image  # noqa: E402
from profile_train import op_type_times  # noqa: E402
from vae_tf import VAEConfig, build_vae, compile_vae, load_data  # noqa: E402
from vae_tf.data import make_training_dataset  # noqa: E402


class EpochClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--precision", default="auto")
    p.add_argument("--steps-per-execution", type=int, default=None,
                   help="override the config's (a speed lever to try)")
    p.add_argument("--trace", default=None, metavar="DIR",
                   help="profile one more epoch into DIR")
    args = p.parse_args()
    config = VAEConfig(precision=args.precision, epochs=args.epochs)
    if args.steps_per_execution:
        config = config.replace(steps_per_execution=args.steps_per_execution)
    data = load_data(config.data, num_examples=config.num_examples,
                     seed=config.seed)
    config = config.resolve(data.image_shape)
    models = build_vae(config)
    steps = -(-len(data.train) // config.batch_size)
    compile_vae(models.vae, config, steps_per_epoch=steps)
    ds = make_training_dataset(data.train.images, config.batch_size,
                               config.epochs + bool(args.trace),
                               seed=config.seed)
    clock = EpochClock()
    history = models.vae.fit(ds, epochs=config.epochs, steps_per_epoch=steps,
                             verbose=0, callbacks=[clock]).history
    steady = clock.seconds[1:] or clock.seconds
    img_s = len(data.train) * len(steady) / sum(steady)
    flops = training_flops_per_image(models.vae)
    measured = ceilings()
    ceiling = ceiling_for(config.precision, measured)
    print(f"default config: precision {config.precision}, batch "
          f"{config.batch_size}, widths {list(config.widths)}, "
          f"{len(data.train):,} images, {steps} steps/epoch")
    print("epoch seconds: " + ", ".join(f"{s:.1f}" for s in clock.seconds))
    print("training loss per epoch (nats/image, the same math gives the "
          "same values): " + ", ".join(f"{v:.2f}" for v in history["loss"]))
    print(f"images/s (epochs 2-{config.epochs}): {img_s:.0f}; "
          f"{flops / 1e6:.1f} MFLOP/img (train); "
          f"{img_s * flops / 1e9:.1f} GFLOP/s = "
          f"{100 * img_s * flops / (ceiling * 1e9):.1f}% of the "
          f"{config.precision} ceiling ({ceiling:.1f} GFLOP/s)")
    if args.trace:
        profile_epoch(models.vae, ds, steps, config.epochs, args.trace)


def profile_epoch(vae, ds, steps: int, done: int, logdir: str) -> None:
    """One more epoch of `fit` under the profiler; prints the busy time
    per op type (both cores, idle left out)."""
    import tensorflow as tf

    clock = EpochClock()
    tf.profiler.experimental.start(logdir)
    vae.fit(ds, initial_epoch=done, epochs=done + 1, steps_per_epoch=steps,
            verbose=0, callbacks=[clock])
    tf.profiler.experimental.stop()
    times = op_type_times(logdir)
    total = sum(times.values())
    print(f"\nprofiled epoch: {clock.seconds[0]:.1f} s wall ({steps} steps),"
          f" busy {total / 1e6:.1f} s summed over both cores; trace in "
          f"{logdir}")
    print("| op type | ms | share of busy time |")
    print("| --- | ---: | ---: |")
    for name, t in sorted(times.items(), key=lambda kv: -kv[1])[:15]:
        print(f"| {name} | {t / 1e3:.0f} | {t / total * 100:.1f}% |")


if __name__ == "__main__":
    main()
