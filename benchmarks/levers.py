"""Training levers tried against issue 10's unmet targets, at fixed epochs.

Each lever changes one thing against today's default `VAEConfig()` and
trains on `faces` (10,000 images, seed 0) for a fixed number of epochs,
then is scored like `quality.py` (probe Frechet distances, recall). Levers
that are not `VAEConfig` fields are patched in here, so the package does not
carry options that did not pay off:

    tail30    constant rate, then linear decay to 0 over the last 30% of steps
    ema99     Adam `use_ema` (momentum 0.99), evaluated with the EMA weights
    b64       batch 64, learning rate 2e-3, 13 epochs
    latent32  latent 32, 12 epochs
    cosine    cosine decay (a VAEConfig option)
    e30       the default for 30 epochs (what more budget would buy)

    python benchmarks/levers.py tail30 --out /tmp/levers     # ~4-8 min each
    python benchmarks/levers.py --throughput default b64      # images/s only

`--throughput` times one-epoch fits on 2,560 images, the configs
interleaved round by round, and prints images/s (best and median).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality  # noqa: E402
import vae_tf.models.vae as vae_module  # noqa: E402
import vae_tf.training.trainer as training_module  # noqa: E402
from vae_tf import (VAEConfig, build_vae, compile_vae, load_data,  # noqa: E402
                    make_dataset)

LEVERS = {
    "default": dict(fields={}),
    "tail30": dict(fields={}, tail=0.3),
    "ema99": dict(fields={}, ema=0.99),
    "b64": dict(fields=dict(batch_size=64, learning_rate=2e-3, epochs=13)),
    "latent32": dict(fields=dict(latent_dim=32, epochs=12)),
    "cosine": dict(fields=dict(lr_schedule="cosine")),
    "e30": dict(fields=dict(epochs=30)),
}


@keras.saving.register_keras_serializable(package="vae_tf_benchmarks")
class TailDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`rate` until `1 - fraction` of `total_steps`, then linearly to 0."""

    def __init__(self, rate: float, total_steps: float, fraction: float):
        self.rate, self.total_steps, self.fraction = rate, total_steps, fraction

    def __call__(self, step):
        decay_steps = self.total_steps * self.fraction
        left = self.total_steps - ops.cast(step, "float32")
        return self.rate * ops.clip(left / decay_steps, 0.0, 1.0)

    def get_config(self):
        return dict(rate=self.rate, total_steps=self.total_steps,
                    fraction=self.fraction)


def patch(lever: dict) -> None:
    """Installs a lever's non-config changes into vae_tf's training path."""
    if lever.get("tail"):
        def schedule(config, steps_per_epoch=None):
            steps_per_epoch = steps_per_epoch or -(
                -config.num_examples // config.batch_size)
            return TailDecay(config.learning_rate,
                             float(config.epochs * steps_per_epoch),
                             lever["tail"])
        vae_module.learning_rate_schedule = schedule
    if lever.get("ema"):
        real_compile = training_module.compile_vae

        def compile_with_ema(vae, config, steps_per_epoch=None, **kwargs):
            optimizer = keras.optimizers.Adam(
                vae_module.learning_rate_schedule(config, steps_per_epoch),
                use_ema=True, ema_momentum=lever["ema"])
            return real_compile(vae, config, steps_per_epoch,
                                optimizer=optimizer, **kwargs)
        training_module.compile_vae = compile_with_ema
        real_train = quality.train

        def train_with_swap(*args, **kwargs):
            kwargs["callbacks"] = list(kwargs.get("callbacks", ())) + [
                keras.callbacks.SwapEMAWeights(swap_on_epoch=True)]
            return real_train(*args, **kwargs)
        quality.train = train_with_swap


def throughput(names, data, rounds: int = 4, n: int = 2560) -> None:
    fits = {}
    for name in names:
        config = VAEConfig(**LEVERS[name]["fields"]).resolve(data.image_shape)
        models = build_vae(config)
        compile_vae(models.vae, config)
        ds = make_dataset(data.train.images[:n], config.batch_size)
        models.vae.fit(ds, epochs=1, verbose=0)  # tracing
        fits[name] = (models.vae, ds, [])
    for _ in range(rounds):
        for vae, ds, rates in fits.values():
            start = time.perf_counter()
            vae.fit(ds, epochs=1, verbose=0)
            rates.append(n / (time.perf_counter() - start))
    for name, (_, _, rates) in fits.items():
        rates.sort()
        print(f"{name}: {rates[-1]:.0f} img/s best, "
              f"{rates[len(rates) // 2]:.0f} median of {rounds}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("levers", nargs="+", choices=sorted(LEVERS))
    parser.add_argument("--out", default="lever_runs")
    parser.add_argument("--throughput", action="store_true",
                        help="only time the configs, train nothing")
    args = parser.parse_args(argv)
    data = load_data("faces", num_examples=10000, seed=0)
    if args.throughput:
        throughput(args.levers, data)
        return
    if len(args.levers) > 1:
        parser.error("train one lever per process (their patches differ)")
    lever = LEVERS[args.levers[0]]
    patch(lever)
    fields = dict(lever["fields"])
    fields.setdefault("epochs", VAEConfig().epochs)
    row = quality.run_candidate(args.levers[0], fields, data, args.out,
                                equal_time=False)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
