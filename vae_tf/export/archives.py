"""The two `keras.export.ExportArchive`s and their named signatures.

Inputs and outputs have names instead of `output_0`; the batch dimension
is dynamic:

- encoder `serving_default`: `image` float32 `(batch, H, W, C)` in [0, 1]
  -> `z_mean`, `z_log_var` float32 `(batch, latent_dim)`.
- encoder `encode_sample`: same input -> `z_mean`, `z_log_var` and a
  posterior sample `z`.
- decoder `serving_default`: `z` float32 `(batch, latent_dim)` -> `image`
  float32 `(batch, H, W, C)` in the data's range (means / probabilities).
- decoder `sample`: `num_samples` int32 scalar, `seed` int64 scalar ->
  `image` and the draw `z` of the run's sampler (`vae_tf.samplers`: the
  fitted Gaussian mixture, baked in as constants, or N(0, I)); stateless,
  so a seed repeats exactly and matches `vae_tf.generate.sample`.

Each builder also returns reference inputs with the Keras model's outputs
(which `check_export` compares the SavedModel against) and the warmup
requests TF Serving replays at load.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from vae_tf.config import VAEConfig
from vae_tf.export.serving_graph import serving_decoder
from vae_tf.models import VAEModels, moments_encoder

SERVING_DEFAULT = "serving_default"
ENCODE_SAMPLE = "encode_sample"
SAMPLE = "sample"


def _batch_safe(model, x):
    """`model(x)` (one output or a list), also for an empty batch.

    oneDNN's CPU convolutions reject a batch of 0 ("input depth must be
    evenly divisible by filter depth"), so a client sending no rows would
    get an obscure error. One zero row is appended only when the batch is
    empty (a `concat` with a 0- or 1-row block: no control flow, and no
    `Pad` that the converters would fuse into the first convolution) and
    the outputs are cut back to the batch size.
    """
    n = tf.shape(x)[0]
    filler = tf.zeros(
        tf.concat([[1 - tf.minimum(n, 1)], tf.shape(x)[1:]], axis=0), x.dtype
    )
    padded = tf.concat([x, filler], axis=0)
    padded.set_shape([None, *x.shape[1:]])
    outputs = model(padded, training=False)
    if isinstance(outputs, (list, tuple)):
        return [o[:n] for o in outputs]
    return outputs[:n]


def encoder_archive(models: VAEModels, config: VAEConfig, sampler):
    """`(archive, reference, warmup)` of the encoder; the reference images
    are decodings of `sampler`'s draws (no data set needed)."""
    encoder = models.encoder
    mean_encoder = moments_encoder(encoder)
    archive = keras.export.ExportArchive()
    archive.track(encoder)
    spec = [tf.TensorSpec((None, *config.input_shape), tf.float32, "image")]

    def encode(image):
        z_mean, z_log_var = _batch_safe(mean_encoder, image)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def encode_sample(image):
        z_mean, z_log_var, z = _batch_safe(encoder, image)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    archive.add_endpoint(SERVING_DEFAULT, encode, input_signature=spec)
    archive.add_endpoint(ENCODE_SAMPLE, encode_sample, input_signature=spec)

    # Representative inputs without touching the data set: images decoded
    # from the sampler's draws lie on the data manifold the model learned.
    z = sampler.sample(32, seed=0)
    images = models.decoder.predict(z, verbose=0).astype(np.float32)
    z_mean, z_log_var = mean_encoder.predict(images, verbose=0)
    reference = {
        "serving_default/image": images,
        "serving_default/z_mean": z_mean,
        "serving_default/z_log_var": z_log_var,
    }
    warmup = [
        (SERVING_DEFAULT, {"image": images[:1]}),
        (SERVING_DEFAULT, {"image": images}),
        (ENCODE_SAMPLE, {"image": images[:1]}),
        (ENCODE_SAMPLE, {"image": images}),
    ]
    return archive, reference, warmup


def decoder_archive(models: VAEModels, config: VAEConfig, sampler):
    """`(archive, reference, warmup)` of the decoder; `sample` draws from
    `sampler`."""
    decoder = models.decoder
    # The exported graph: the same function, with the output layer as a
    # sub-pixel convolution (`serving_graph`); the reference below comes
    # from `decoder` itself, so `check_export` compares the two.
    serving = serving_decoder(decoder)
    latent_dim = config.latent_dim
    archive = keras.export.ExportArchive()
    archive.track(serving)

    # A sub-pixel layer is a forward convolution, which needs the row for
    # an empty batch as the encoder's first one does.
    def decode(z):
        return {"image": _batch_safe(serving, z)}

    def sample(num_samples, seed):
        z = sampler.tf_sample(num_samples, seed)
        return {"image": _batch_safe(serving, z), "z": z}

    archive.add_endpoint(
        SERVING_DEFAULT, decode,
        input_signature=[tf.TensorSpec((None, latent_dim), tf.float32, "z")],
    )
    archive.add_endpoint(
        SAMPLE, sample,
        input_signature=[
            tf.TensorSpec((), tf.int32, "num_samples"),
            tf.TensorSpec((), tf.int64, "seed"),
        ],
    )
    z = sampler.sample(32, seed=1)
    reference = {
        "serving_default/z": z,
        "serving_default/image": decoder.predict(z, verbose=0),
    }
    warmup = [
        (SERVING_DEFAULT, {"z": z[:1]}),
        (SERVING_DEFAULT, {"z": z}),
        (SAMPLE, {"num_samples": np.int32(4), "seed": np.int64(0)}),
    ]
    return archive, reference, warmup


def signature_specs(path: str) -> dict:
    """Signature names of the SavedModel at `path` -> their input/output
    names, dtype names and shapes (`None` for a dynamic size)."""
    loaded = tf.saved_model.load(path)
    out = {}
    for key, fn in loaded.signatures.items():
        inputs = fn.structured_input_signature[1]
        outputs = fn.structured_outputs
        out[key] = {
            "inputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()}
                for k, v in inputs.items()
            },
            "outputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()}
                for k, v in outputs.items()
            },
        }
    return out
