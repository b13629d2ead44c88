"""Training benchmark: the Keras VAE example vs vae_tf, side by side.

Three questions, one run (machine noise hits every trainer alike):

1. Speed at equal quality, at equal architecture. `vae_tf` trains the
   example's layers (2 stride-2 Conv2D, Dense 16, latent 2,
   Conv2DTranspose decoder) through vae_tf's `compile` + `fit` with its
   own recipe: batch 256, one-cycle learning rate peaking at 4e-3, float32,
   for 40% of the example's epochs (`--vae-tf-*` flags below);
   `keras_example` is the example as published (float32, batch 128, Adam
   1e-3, `--epochs`). One epoch of each in turn, test -ELBO after each;
   reported: the training time vae_tf needed to reach the example's final
   test -ELBO, as a fraction of the example's, and both models' test -ELBO
   at equal wall time. Images/s from epochs 2+ (the first traces).
2. Precision A/B (`--precision-ab`): `vae_tf_<other>` is `vae_tf` in the
   other precision (float32 <-> bfloat16), interleaved too.
3. Time to quality with vae_tf's default model: after the loop, the
   default configuration for binarized Fashion-MNIST (`VAEConfig(data=
   "fashion_mnist", likelihood="bernoulli")`: default architecture, latent
   16, batch 32, default precision) trains until its test -ELBO reaches the
   example's final test -ELBO, checked every `--check-every` steps with the
   clock paused; its training seconds (tracing included, as in the
   example's) vs the example's total.

All train on dynamically binarized Fashion-MNIST (55,000 images) from the
identical tf.data pipeline. Reported: training images/s, test -ELBO on the
fixed-binarized test set (10,000 images), the IWAE bound (k=100, first
2,000 test images), the share of the ceiling of each trainer's precision.

    python benchmarks/train.py --epochs 10 --skip-time-to-quality
    python benchmarks/train.py --epochs 3 --vae-tf-epochs 3 --precision-ab
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_example as kx  # noqa: E402
from flops import ceiling_for, ceilings, training_flops_per_image  # noqa: E402
from vae_tf import (VAEConfig, build_vae, compile_vae, load_data,  # noqa: E402
                    make_dataset)
from vae_tf.data.pipeline import binarize_fixed  # noqa: E402
from vae_tf.evaluation.metrics import iwae_nll, negative_elbo  # noqa: E402
from vae_tf.models.precision import PRECISIONS  # noqa: E402
from vae_tf.models.precision import resolve_precision  # noqa: E402


def probability_logits(decoder):
    """The example's decoder outputs probabilities; the bounds need logits.
    log p - log(1 - p) with Keras' own 1e-7 clipping reproduces exactly the
    cross-entropy the example trains on."""
    def run(z, training=False):
        p = tf.clip_by_value(decoder(z, training=training), 1e-7, 1 - 1e-7)
        return tf.math.log(p) - tf.math.log1p(-p)
    return run


class Timer(keras.callbacks.Callback):
    """Training time of one epoch (fit start to end, evaluation excluded)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


class TimeToTarget(keras.callbacks.Callback):
    """Stops training when the test -ELBO reaches `target`; `seconds` is
    the training time until then (the clock stops while evaluating)."""

    def __init__(self, models, test, target, every):
        super().__init__()
        self.models, self.test = models, test
        self.target, self.every = target, every
        self.seconds, self.steps, self.reached = 0.0, 0, None

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds += time.perf_counter() - self.start
        self.steps += 1
        if self.steps % self.every == 0:
            elbo = negative_elbo(self.models.encoder,
                                 self.models.vae.get_layer("decoder"),
                                 self.test, "bernoulli")["neg_elbo"]
            if elbo <= self.target:
                self.reached = elbo
                self.model.stop_training = True


def equal_architecture_config(args) -> VAEConfig:
    """vae_tf on the example's architecture with vae_tf's speed settings."""
    overrides = {}
    if args.vae_tf_steps_per_execution is not None:
        overrides["steps_per_execution"] = args.vae_tf_steps_per_execution
    if args.vae_tf_jit != "default":
        overrides["jit_compile"] = args.vae_tf_jit == "on"
    return VAEConfig(
        input_shape=(28, 28, 1), latent_dim=kx.LATENT_DIM,
        likelihood="bernoulli", batch_size=args.vae_tf_batch_size,
        learning_rate=args.vae_tf_learning_rate,
        epochs=args.vae_tf_epochs or max(1, round(0.4 * args.epochs)),
        seed=0, precision=args.vae_tf_precision, **overrides,
    ).resolve()


def time_to_target(data, test, target, max_epochs, every):
    """Trains vae_tf's default Bernoulli Fashion-MNIST config until its
    test -ELBO <= target: `(config, seconds or None, -ELBO, steps)`."""
    config = VAEConfig(data="fashion_mnist", likelihood="bernoulli",
                       epochs=max_epochs).resolve((28, 28, 1))
    models = build_vae(config)
    compile_vae(models.vae, config, steps_per_epoch=-(
        -len(data.train.images) // config.batch_size))
    ds = make_dataset(data.train.images, config.batch_size, shuffle=True,
                      binarize=True, seed=0)
    clock = TimeToTarget(models, test, target, every)
    models.vae.fit(ds, epochs=max_epochs, verbose=0, callbacks=[clock],
                   shuffle=False)
    return config, (clock.seconds if clock.reached else None), \
        clock.reached, clock.steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--iwae-k", type=int, default=100)
    parser.add_argument("--iwae-images", type=int, default=2000)
    parser.add_argument("--vae-tf-precision", default="float32",
                        choices=PRECISIONS)
    parser.add_argument("--vae-tf-batch-size", type=int, default=256)
    parser.add_argument("--vae-tf-learning-rate", type=float, default=4e-3,
                        help="the one-cycle schedule's peak")
    parser.add_argument("--vae-tf-steps-per-execution", type=int,
                        default=None, help="override vae_tf's default")
    parser.add_argument("--vae-tf-jit", choices=("default", "on", "off"),
                        default="default")
    parser.add_argument("--vae-tf-epochs", type=int, default=None,
                        help="vae_tf's epochs, its schedule's length "
                        "(default: 40%% of --epochs, rounded)")
    parser.add_argument("--precision-ab", action="store_true",
                        help="also train vae_tf in float32, interleaved")
    parser.add_argument("--check-every", type=int, default=100,
                        help="time to quality: steps between test checks")
    parser.add_argument("--skip-time-to-quality", action="store_true")
    args = parser.parse_args(argv)

    data = load_data("fashion_mnist")
    test = binarize_fixed(data.test.images, seed=2)
    n_train = len(data.train)

    config = equal_architecture_config(args)
    trainers = {}  # name -> (keras model, dataset, encoder, logits decoder)
    base_ds = make_dataset(data.train.images, 128, shuffle=True,
                           binarize=True, seed=0).map(lambda x, y: x)
    keras.utils.set_random_seed(0)
    base_encoder, base_decoder = kx.build_encoder_decoder()
    baseline = kx.VAE(base_encoder, base_decoder)
    baseline.compile(optimizer=keras.optimizers.Adam(1e-3))
    trainers["keras_example"] = (baseline, base_ds, base_encoder,
                                 probability_logits(base_decoder))
    precisions = {"keras_example": "float32"}
    variants = [("vae_tf", config)]
    if args.precision_ab:
        other = ("bfloat16" if resolve_precision(config.precision)
                 == "float32" else "float32")
        variants.append((f"vae_tf_{other}", config.replace(
            precision=other)))
    for name, cfg in variants:
        ours = build_vae(cfg, encoder_body=kx.encoder_body,
                         decoder_body=kx.decoder_body)
        # The schedule spans this data's steps, not num_examples' guess.
        compile_vae(ours.vae, cfg, steps_per_epoch=-(
            -len(data.train.images) // cfg.batch_size))
        ds = make_dataset(data.train.images, cfg.batch_size, shuffle=True,
                          binarize=True, seed=0)
        trainers[name] = (ours.vae, ds, ours.encoder,
                          ours.vae.get_layer("decoder"))
        precisions[name] = resolve_precision(cfg.precision)

    print(f"vae_tf: precision={config.precision}, batch "
          f"{config.batch_size}, learning rate {config.learning_rate:g}, "
          f"steps_per_execution={config.steps_per_execution}, "
          f"jit_compile={config.jit_compile}", flush=True)
    times = {name: [] for name in trainers}
    curves = {name: [] for name in trainers}
    budget = {name: args.epochs for name in trainers}
    budget.update({name: cfg.epochs for name, cfg in variants})
    for epoch in range(max(budget.values())):
        for name, (model, ds, _, _) in trainers.items():
            if epoch >= budget[name]:
                continue
            timer = Timer()
            model.fit(ds, initial_epoch=epoch, epochs=epoch + 1, verbose=0,
                      callbacks=[timer], shuffle=False)
            times[name].append(timer.seconds)
        line = ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()
                         if len(t) == epoch + 1)
        for name, curve in curves.items():
            if epoch >= budget[name]:
                continue
            _, _, enc, dec = trainers[name]
            elbo = negative_elbo(enc, dec, test, "bernoulli")["neg_elbo"]
            curve.append((sum(times[name]), elbo))
            line += f"; {name} test -ELBO {elbo:.2f}"
        print(f"epoch {epoch + 1}: {line}", flush=True)

    results = {}
    for name, (model, _, enc, dec) in trainers.items():
        steady = times[name][1:] or times[name]
        images = n_train * len(steady)
        results[name] = {
            "img_s": images / sum(steady),
            "neg_elbo": negative_elbo(enc, dec, test, "bernoulli")[
                "neg_elbo"],
            "iwae": iwae_nll(enc, dec, test[:args.iwae_images], "bernoulli",
                             k=args.iwae_k, batch_size=32)["iwae_nll"],
            "flops": training_flops_per_image(model),
            "precision": precisions[name],
        }
    target = results["keras_example"]["neg_elbo"]
    base_total = sum(times["keras_example"])
    quality = None
    if not args.skip_time_to_quality:
        quality = time_to_target(data, test, target, args.epochs,
                                 args.check_every)
    measured = ceilings()
    report(args, results, curves, target, base_total, quality, measured)


def report(args, results, curves, target, base_total, quality, measured):
    print()
    print(f"Machine: {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; ceilings (best of matmul and conv) "
          + ", ".join(f"{p} {ceiling_for(p, measured):.1f} GFLOP/s"
                      for p in ("float32", "bfloat16")))
    print(f"Fashion-MNIST, dynamic binarization, {args.epochs} epochs each, "
          f"interleaved; IWAE k={args.iwae_k} on {args.iwae_images} test "
          "images")
    print()
    print("| trainer | precision | train img/s | test -ELBO (nats) | "
          "IWAE NLL (nats) | MFLOP/img (train) | % of its ceiling |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        ceiling = ceiling_for(r["precision"], measured)
        frac = r["img_s"] * r["flops"] / (ceiling * 1e9) * 100
        print(f"| {name} | {r['precision']} | {r['img_s']:.0f} | "
              f"{r['neg_elbo']:.2f} | {r['iwae']:.2f} | "
              f"{r['flops'] / 1e6:.2f} | {frac:.1f}% |")
    base = results["keras_example"]
    print()
    for name, r in results.items():
        if name == "keras_example":
            continue
        print(f"{name} / keras_example images/s: "
              f"{r['img_s'] / base['img_s']:.2f}x; test -ELBO "
              f"{r['neg_elbo'] - base['neg_elbo']:+.2f} nats")
        reach = next((t for t, e in curves[name] if e <= target), None)
        if reach is None:
            print(f"  {name} did not reach the example's {args.epochs}-epoch"
                  f" test -ELBO ({target:.2f}) in {len(curves[name])} "
                  "epochs")
        else:
            print(f"  {name} reached the example's {args.epochs}-epoch test "
                  f"-ELBO ({target:.2f}) after {reach:.1f} s of training "
                  f"(epoch granularity); the example trained "
                  f"{base_total:.1f} s: {reach / base_total:.3f} of its "
                  f"time ({base_total / reach:.2f}x faster)")
        spent, own = curves[name][-1]
        done = [e for t, e in curves["keras_example"] if t <= spent]
        print(f"  equal wall time: after {spent:.1f} s, {name} test -ELBO "
              f"{own:.2f}; the example "
              + (f"{done[-1]:.2f} ({len(done)} epochs done)" if done
                 else "had not finished its first epoch"))
    ab = [name for name in results if name.startswith("vae_tf_")]
    for name in ab:
        other, ours = results[name], results["vae_tf"]
        print(f"precision A/B: {name} / vae_tf images/s "
              f"{other['img_s'] / ours['img_s']:.2f}x; test -ELBO "
              f"{other['neg_elbo'] - ours['neg_elbo']:+.2f} nats")
    if quality is not None:
        config, seconds, elbo, steps = quality
        what = (f"vae_tf default config (precision {config.precision}, "
                f"batch {config.batch_size}, latent {config.latent_dim}, "
                f"widths {list(config.widths)})")
        if seconds is None:
            print(f"time to quality: {what} did not reach {target:.2f} in "
                  f"{args.epochs} epochs")
        else:
            print(f"time to quality: {what} reached test -ELBO {elbo:.2f} "
                  f"<= {target:.2f} (the example's {args.epochs}-epoch "
                  f"value) after {seconds:.1f} s of training ({steps} "
                  f"steps); the example trained {base_total:.1f} s: "
                  f"{seconds / base_total:.3f} of its time "
                  f"({base_total / seconds:.2f}x faster)")


if __name__ == "__main__":
    main()
