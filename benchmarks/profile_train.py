"""Where a vae_tf training step's time goes, on the benchmark architecture.

Times, in one process and interleaved: (1) the input pipeline alone
(iterating the binarized Fashion-MNIST tf.data pipeline), (2) the forward
pass (`vae(x, training=True)` in a tf.function), (3) forward + backward
(gradients, no update), (4) the full `train_on_batch` step, and the
biggest single layer, the decoder's 14x14 -> 28x28 Conv2DTranspose, alone.
With `--trace DIR`, also records a TensorBoard profiler trace of 20 `fit`
steps into DIR (open it with `tensorboard --logdir DIR`, Profile tab; needs
`pip install tensorboard-plugin-profile`) and prints the busy time per op
type from it.

    python benchmarks/profile_train.py
    python benchmarks/profile_train.py --precision bfloat16 --batch-size 512 \
        --trace /tmp/trace
"""

import argparse
import collections
import glob
import json

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_example as kx  # noqa: E402
from vae_tf import (  # noqa: E402
    ReconstructionLoss, VAEConfig, build_vae, compile_vae, load_data,
    make_dataset)


def best_of(fn, repeats=30):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def op_type_times(logdir: str) -> dict[str, float]:
    """Busy microseconds per op type in the newest trace under `logdir`
    (xprof's framework_op_stats; idle time left out)."""
    from xprof.convert import raw_to_tool_data

    path = sorted(glob.glob(f"{logdir}/plugins/profile/*/*.xplane.pb"))[-1]
    table, _ = raw_to_tool_data.xspace_to_tool_data(
        [path], "framework_op_stats", {})
    table = json.loads(table)[0]
    cols = [c["id"] for c in table["cols"]]
    times = collections.Counter()
    for row in table["rows"]:
        r = dict(zip(cols, (c.get("v") for c in row["c"])))
        if r["type"] != "IDLE":
            times[r["type"]] += r["total_self_time"]
    return dict(times)


def trace(vae, ds, logdir: str, steps: int = 20) -> None:
    """Profiles `steps` fit steps into `logdir` and prints the op types."""
    vae.fit(ds.take(steps), epochs=1, verbose=0)  # trace the step first
    tf.profiler.experimental.start(logdir)
    vae.fit(ds.take(steps), epochs=1, verbose=0)
    tf.profiler.experimental.stop()
    times = op_type_times(logdir)
    total = sum(times.values())
    print(f"\nprofiler trace in {logdir}: {steps} steps, busy time per op "
          "type (both cores)")
    print("| op type | ms | share |")
    print("| --- | ---: | ---: |")
    for name, t in sorted(times.items(), key=lambda kv: -kv[1])[:12]:
        print(f"| {name} | {t / 1e3:.1f} | {t / total * 100:.1f}% |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", default="float32",
                        choices=("float32", "bfloat16"))
    parser.add_argument("--trace", default=None, metavar="DIR")
    args = parser.parse_args(argv)
    batch = args.batch_size
    data = load_data("fashion_mnist")
    config = VAEConfig(input_shape=(28, 28, 1), latent_dim=kx.LATENT_DIM,
                       likelihood="bernoulli", batch_size=batch,
                       precision=args.precision)
    models = build_vae(config, encoder_body=kx.encoder_body,
                       decoder_body=kx.decoder_body)
    compile_vae(models.vae, config, steps_per_epoch=-(
        -len(data.train.images) // batch))
    vae = models.vae
    ds = make_dataset(data.train.images, batch, shuffle=True, binarize=True)
    x, y = next(iter(ds))

    it = iter(ds.repeat())
    pipeline = best_of(lambda: next(it))

    forward = tf.function(lambda x: vae(x, training=True))
    t_forward = best_of(lambda: forward(x).numpy())

    reconstruction = ReconstructionLoss("bernoulli")

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            params = vae(x, training=True)
            loss = reconstruction(x, params) + tf.add_n(vae.losses)
        return tape.gradient(loss, vae.trainable_variables)

    t_backward = best_of(lambda: [g.numpy() for g in grads(x)])
    t_step = best_of(lambda: vae.train_on_batch(x, y))

    deconv = [item for item in models.vae.get_layer("decoder").layers
              if "conv2d_transpose" in item.name][1]
    h = tf.random.normal((batch, *deconv.input.shape[1:]))
    layer = tf.function(lambda h: deconv(h))
    t_layer = best_of(lambda: layer(h).numpy())

    print(f"batch {batch}, {args.precision}, median of 30 (ms per batch):")
    rows = [
        ("input pipeline (next batch)", pipeline),
        ("forward pass", t_forward),
        ("forward + backward", t_backward),
        ("full train step (train_on_batch)", t_step),
        (f"one layer forward: {deconv.name} {tuple(deconv.input.shape[1:])}",
         t_layer),
    ]
    print("| part | ms / batch | share of the step |")
    print("| --- | ---: | ---: |")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.2f} | {t / t_step * 100:.0f}% |")
    if args.trace:
        trace(vae, ds, args.trace)


if __name__ == "__main__":
    main()
