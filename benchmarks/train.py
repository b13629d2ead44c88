"""Training benchmark: the Keras VAE example vs vae_tf, side by side.

Both train the same architecture (the example's: 2 stride-2 Conv2D, Dense
16, latent 2, Conv2DTranspose decoder) on dynamically binarized
Fashion-MNIST (55,000 training images), batch 128, Adam 1e-3, the same
number of epochs, one epoch of each in turn so machine noise hits both
alike. Both see the identical tf.data input (vae_tf's pipeline; the example
gets its images only). Reported per trainer: training images/s (epochs 2+,
excluding the first epoch's tracing), test -ELBO on the fixed-binarized test
set (10,000 images), the IWAE bound (k=100 on the first 2,000 test images),
the fraction of the CPU's float32 matmul ceiling, and the wall time vae_tf
needs to reach the example's final test -ELBO.

    python benchmarks/train.py --epochs 10
    python benchmarks/train.py --epochs 3 --vae-tf-steps-per-execution 1  # A/B
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
from flops import matmul_ceiling_gflops, training_flops_per_image  # noqa: E402
from vae_tf import (VAEConfig, build_vae, compile_vae, load_data,  # noqa: E402
                    make_dataset)
from vae_tf.data.pipeline import binarize_fixed  # noqa: E402
from vae_tf.metrics import iwae_nll, negative_elbo  # noqa: E402


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--iwae-k", type=int, default=100)
    parser.add_argument("--iwae-images", type=int, default=2000)
    parser.add_argument("--vae-tf-steps-per-execution", type=int, default=None,
                        help="override vae_tf's default")
    parser.add_argument("--vae-tf-jit", choices=("default", "on", "off"),
                        default="default")
    args = parser.parse_args(argv)

    data = load_data("fashion_mnist")
    test = binarize_fixed(data.test.images, seed=2)
    n_train = len(data.train)

    config = VAEConfig(
        input_shape=(28, 28, 1), latent_dim=kx.LATENT_DIM,
        likelihood="bernoulli", batch_size=args.batch_size,
        learning_rate=1e-3, epochs=args.epochs, seed=0,
    )
    overrides = {}
    if args.vae_tf_steps_per_execution is not None:
        overrides["steps_per_execution"] = args.vae_tf_steps_per_execution
    if args.vae_tf_jit != "default":
        overrides["jit_compile"] = args.vae_tf_jit == "on"
    config = config.replace(**overrides)

    ds = make_dataset(data.train.images, args.batch_size, shuffle=True,
                      binarize=True, seed=0)
    keras.utils.set_random_seed(0)
    base_encoder, base_decoder = kx.build_encoder_decoder()
    baseline = kx.VAE(base_encoder, base_decoder)
    baseline.compile(optimizer=keras.optimizers.Adam(1e-3))
    base_ds = ds.map(lambda x, y: x)

    ours = build_vae(config, encoder_body=kx.encoder_body,
                     decoder_body=kx.decoder_body)
    compile_vae(ours.vae, config)
    param_decoder = ours.vae.get_layer("decoder")

    print(f"vae_tf compile: steps_per_execution={config.steps_per_execution}, "
          f"jit_compile={config.jit_compile}", flush=True)
    times = {"keras_example": [], "vae_tf": []}
    ours_curve = []  # (cumulative training seconds, test -ELBO) per epoch
    for epoch in range(args.epochs):
        for name in ("keras_example", "vae_tf"):
            timer = Timer()
            if name == "keras_example":
                baseline.fit(base_ds, initial_epoch=epoch, epochs=epoch + 1,
                             verbose=0, callbacks=[timer])
            else:
                ours.vae.fit(ds, initial_epoch=epoch, epochs=epoch + 1,
                             verbose=0, callbacks=[timer], shuffle=False)
            times[name].append(timer.seconds)
        elbo = negative_elbo(ours.encoder, param_decoder, test, "bernoulli")
        ours_curve.append((sum(times["vae_tf"]), elbo["neg_elbo"]))
        print(f"epoch {epoch + 1}: keras_example "
              f"{times['keras_example'][-1]:.1f} s,"
              f" vae_tf {times['vae_tf'][-1]:.1f} s; vae_tf test -ELBO "
              f"{elbo['neg_elbo']:.2f}", flush=True)

    results = {}
    for name, enc, dec, model in (
        ("keras_example", base_encoder, probability_logits(base_decoder),
         baseline),
        ("vae_tf", ours.encoder, param_decoder, ours.vae),
    ):
        steady = times[name][1:] or times[name]
        elbo = negative_elbo(enc, dec, test, "bernoulli")
        iwae = iwae_nll(enc, dec, test[:args.iwae_images], "bernoulli",
                        k=args.iwae_k, batch_size=32)
        results[name] = {
            "img_s": n_train * len(steady) / sum(steady),
            "neg_elbo": elbo["neg_elbo"],
            "iwae": iwae["iwae_nll"],
            "flops": training_flops_per_image(model),
        }

    ceiling = matmul_ceiling_gflops()
    target = results["keras_example"]["neg_elbo"]
    reach = next((t for t, e in ours_curve if e <= target), None)
    base_total = sum(times["keras_example"])

    print()
    print(f"Machine: {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; float32 matmul ceiling "
          f"{ceiling:.1f} GFLOP/s")
    print(f"Fashion-MNIST, dynamic binarization, batch {args.batch_size}, "
          f"{args.epochs} epochs each, interleaved; IWAE k={args.iwae_k} on "
          f"{args.iwae_images} test images")
    print()
    print("| trainer | train img/s | test -ELBO (nats) | IWAE NLL (nats) "
          "| MFLOP/img (train) | % of ceiling |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        frac = r["img_s"] * r["flops"] / (ceiling * 1e9) * 100
        print(f"| {name} | {r['img_s']:.0f} | {r['neg_elbo']:.2f} | "
              f"{r['iwae']:.2f} | {r['flops'] / 1e6:.2f} | {frac:.1f}% |")
    b, o = results["keras_example"], results["vae_tf"]
    print()
    print(f"vae_tf / keras_example images/s: {o['img_s'] / b['img_s']:.2f}x")
    print(f"test -ELBO difference (vae_tf - example): "
          f"{o['neg_elbo'] - b['neg_elbo']:+.2f} nats")
    if reach is None:
        print(f"vae_tf did not reach the example's final test -ELBO "
              f"({target:.2f}) in {args.epochs} epochs")
    else:
        print(f"vae_tf reached the example's final test -ELBO ({target:.2f}) "
              f"after {reach:.0f} s of training; the example took "
              f"{base_total:.0f} s ({base_total / reach:.2f}x)")


if __name__ == "__main__":
    main()
