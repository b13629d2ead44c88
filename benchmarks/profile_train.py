"""Where a vae_tf training step's time goes, on the benchmark architecture.

Times, in one process and interleaved: (1) the input pipeline alone
(iterating the binarized Fashion-MNIST tf.data pipeline), (2) the forward
pass (`vae(x, training=True)` in a tf.function), (3) forward + backward
(gradients, no update), (4) the full `train_on_batch` step, and the
biggest single layer, the decoder's 14x14 -> 28x28 Conv2DTranspose, alone.

    python benchmarks/profile_train.py
"""

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


def main():
    batch = 128
    data = load_data("fashion_mnist")
    config = VAEConfig(input_shape=(28, 28, 1), latent_dim=kx.LATENT_DIM,
                       likelihood="bernoulli", batch_size=batch)
    models = build_vae(config, encoder_body=kx.encoder_body,
                       decoder_body=kx.decoder_body)
    compile_vae(models.vae, config)
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

    print(f"batch {batch}, median of 30 (ms per batch):")
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


if __name__ == "__main__":
    main()
