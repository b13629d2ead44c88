"""Precision A/B: vae_tf's default configuration in float32 vs bfloat16.

Trains `VAEConfig(data="fashion_mnist", likelihood="bernoulli")` (the
default architecture, latent 16, batch 32; dynamically binarized
Fashion-MNIST, 55,000 images) twice from the same initial weights, once per
precision, one epoch of each in turn so machine noise hits both alike, and
prints per epoch the training seconds and the test -ELBO (fixed-binarized
test set, 10,000 images), then images/s (epochs 2+) and the differences.
This is the measurement behind `VAEConfig.precision`'s default (`auto`:
bfloat16 only where it is faster at no loss in quality).

    python benchmarks/precision.py --epochs 5
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from train import Timer  # noqa: E402
from vae_tf import (VAEConfig, build_vae, compile_vae, load_data,  # noqa: E402
                    make_dataset)
from vae_tf.data.pipeline import binarize_fixed  # noqa: E402
from vae_tf.evaluation.metrics import negative_elbo  # noqa: E402
from vae_tf.models.precision import cpu_flags  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: VAEConfig's")
    args = parser.parse_args(argv)

    data = load_data("fashion_mnist")
    test = binarize_fixed(data.test.images, seed=2)
    base = VAEConfig(data="fashion_mnist", likelihood="bernoulli",
                     epochs=args.epochs)
    if args.batch_size:
        base = base.replace(batch_size=args.batch_size)
    runs = {}
    for precision in ("float32", "bfloat16"):
        config = base.replace(precision=precision).resolve((28, 28, 1))
        models = build_vae(config)  # same seed: same initial weights
        compile_vae(models.vae, config, steps_per_epoch=-(
            -len(data.train.images) // config.batch_size))
        ds = make_dataset(data.train.images, config.batch_size, shuffle=True,
                          binarize=True, seed=0)
        runs[precision] = (models, ds, [], [])
    flags = sorted(cpu_flags() & {"avx512_bf16", "amx_bf16", "avx512f"})
    print(f"CPU flags: {flags}; TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}; batch {base.batch_size}", flush=True)
    for epoch in range(args.epochs):
        line = []
        for precision, (models, ds, seconds, elbos) in runs.items():
            timer = Timer()
            models.vae.fit(ds, initial_epoch=epoch, epochs=epoch + 1,
                           verbose=0, callbacks=[timer], shuffle=False)
            seconds.append(timer.seconds)
            elbos.append(negative_elbo(
                models.encoder, models.vae.get_layer("decoder"), test,
                "bernoulli")["neg_elbo"])
            line.append(f"{precision} {timer.seconds:.1f} s, test -ELBO "
                        f"{elbos[-1]:.2f}")
        print(f"epoch {epoch + 1}: " + "; ".join(line), flush=True)

    n = len(data.train)
    rate = {p: n * len(s[1:]) / sum(s[1:]) for p, (_, _, s, _) in
            runs.items()}
    final = {p: e[-1] for p, (_, _, _, e) in runs.items()}
    print()
    print("| precision | train img/s (epochs 2+) | test -ELBO after "
          f"{args.epochs} epochs |")
    print("| --- | ---: | ---: |")
    for p in runs:
        print(f"| {p} | {rate[p]:.0f} | {final[p]:.2f} |")
    print(f"\nbfloat16 / float32 images/s: "
          f"{rate['bfloat16'] / rate['float32']:.2f}x; test -ELBO "
          f"difference {final['bfloat16'] - final['float32']:+.2f} nats")


if __name__ == "__main__":
    main()
