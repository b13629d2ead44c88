"""The two `keras.export.ExportArchive`s and their named signatures.

Inputs and outputs have names instead of `output_0`, and every input and
output has the batch as its dimension 0, the same size across a request,
so that TF Serving's batching (which concatenates the rows of concurrent
requests and splits the outputs back) can merge any of them; a row's
outputs depend on that row's inputs alone:

- encoder `serving_default`: `image` float32 `(batch, H, W, C)` in [0, 1]
  -> `z_mean`, `z_log_var` float32 `(batch, latent_dim)`.
- encoder `encode_sample`: `image` and `seed` int64 `(batch,)` -> `z_mean`,
  `z_log_var` and a posterior draw `z`, row i's from `seed[i]`.
- decoder `serving_default`: `z` float32 `(batch, latent_dim)` -> `image`
  float32 `(batch, H, W, C)` in the data's range (means / probabilities).
- decoder `sample`: `seed` int64 `(batch,)` -> one `image` and its draw
  `z` per seed, from the run's sampler (`vae_tf.samplers`: the fitted
  Gaussian mixture, baked in as constants, or N(0, I)) at temperature 1;
  stateless, so a seed repeats exactly and matches
  `vae_tf.generate.sample` for the same seeds.

A NaN or infinity in `image`, `z` or a continuous factor fails the
request (`finite_inputs`; NaN rows in converted models, as NaN
propagates there).

A conditional model's signatures take, beside these, one named input per
conditioned factor (`condition_inputs`: int64 class values or float32
values, `(batch,)`), `sample`'s one value per seed.

Each builder also returns reference inputs with the Keras model's outputs
for every signature (which `check_export` compares the SavedModel
against) and one warmup request per signature, which TF Serving replays
at load.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from vae_tf.config import VAEConfig
from vae_tf.export import condition_inputs, finite_inputs
from vae_tf.export.serving_graph import serving_decoder
from vae_tf.distributions.gaussian import reparametrize
from vae_tf.models import VAEModels, moments_encoder
from vae_tf._internal.seeds import row_seeds
from vae_tf.samplers.draws import row_draws

SERVING_DEFAULT = "serving_default"
ENCODE_SAMPLE = "encode_sample"
SAMPLE = "sample"
# Rows of reference inputs per signature (`assets.extra/
# vae_tf_reference.npz`).
REFERENCE_ROWS = 8


def _batch_safe(model, x):
    """`model(x)` (one output or a list), also for an empty batch; `x` a
    tensor or a dict of tensors with the same rows.

    oneDNN's CPU convolutions reject a batch of 0 ("input depth must be
    evenly divisible by filter depth"), so a client sending no rows would
    get an obscure error. One zero row is appended only when the batch is
    empty (a `concat` with a 0- or 1-row block: no control flow, and no
    `Pad` that the converters would fuse into the first convolution) and
    the outputs are cut back to the batch size.
    """
    inputs = x if isinstance(x, dict) else {"": x}
    n = tf.shape(next(iter(inputs.values())))[0]
    missing = 1 - tf.minimum(n, 1)

    def pad(value):
        filler = tf.zeros(tf.concat([[missing], tf.shape(value)[1:]], 0),
                          value.dtype)
        padded = tf.concat([value, filler], axis=0)
        padded.set_shape([None, *value.shape[1:]])
        return padded

    padded = {k: pad(v) for k, v in inputs.items()}
    outputs = model(padded if isinstance(x, dict) else padded[""],
                    training=False)
    if isinstance(outputs, (list, tuple)):
        return [o[:n] for o in outputs]
    return outputs[:n]


def _conditioned(specs, main: str, value, factors):
    """`(model input, valid rows)`: `value` alone, or with the encoded
    `factors` (raw tensors, one per spec) for a conditional model; the
    request fails if `value` is not finite (`finite_inputs`)."""
    value = finite_inputs.checked(value, main)
    if not specs:
        return value, None
    encoded, valid = condition_inputs.encode(specs, factors,
                                             tf.shape(value)[0])
    return {main: value, **encoded}, valid


def _marked(outputs: dict, valid) -> dict:
    """Rows of invalid conditions NaN (converted models drop asserts)."""
    if valid is None:
        return outputs
    return {k: condition_inputs.mark_invalid(v, valid)
            for k, v in outputs.items()}


def _first_rows(reference: dict, signature: str, inputs, rows: int = 1):
    """`(signature, {input: the first rows of its reference})`: a warmup
    request, batchable (rank >= 1) and within any `max_batch_size`."""
    return (signature, {k: reference[f"{signature}/{k}"][:rows]
                        for k in inputs})


def encoder_archive(models: VAEModels, config: VAEConfig, sampler):
    """`(archive, reference, warmup)` of the encoder; the reference images
    are decodings of `sampler`'s draws (no data set needed)."""
    encoder = models.encoder
    mean_encoder = moments_encoder(encoder)
    latent_dim = config.latent_dim
    specs = config.specs()
    factor_specs = condition_inputs.input_specs(specs)
    names = [spec.name for spec in factor_specs]
    archive = keras.export.ExportArchive()
    archive.track(encoder)
    image_spec = tf.TensorSpec((None, *config.input_shape), tf.float32,
                               "image")
    seed_spec = tf.TensorSpec((None,), tf.int64, "seed")

    def encode(image, *factors):
        inputs, valid = _conditioned(specs, "image", image, factors)
        z_mean, z_log_var = _batch_safe(mean_encoder, inputs)
        return _marked({"z_mean": z_mean, "z_log_var": z_log_var}, valid)

    def encode_sample(image, seed, *factors):
        tf.debugging.assert_equal(
            tf.shape(seed)[0], tf.shape(image)[0],
            message="encode_sample takes one seed per image")
        inputs, valid = _conditioned(specs, "image", image, factors)
        z_mean, z_log_var = _batch_safe(mean_encoder, inputs)
        eps, _ = row_draws(seed, latent_dim)
        return _marked({"z_mean": z_mean, "z_log_var": z_log_var,
                        "z": reparametrize(z_mean, z_log_var, eps)}, valid)

    archive.add_endpoint(SERVING_DEFAULT, encode,
                         input_signature=[image_spec, *factor_specs])
    archive.add_endpoint(ENCODE_SAMPLE, encode_sample,
                         input_signature=[image_spec, seed_spec,
                                          *factor_specs])

    # Representative inputs without touching the data set: images decoded
    # from the sampler's draws lie on the data manifold the model learned.
    values = condition_inputs.reference_values(specs, REFERENCE_ROWS)
    z = sampler.sample(REFERENCE_ROWS, seed=0)
    images = models.decoder.predict(
        condition_inputs.keras_inputs(specs, "z", z, values), verbose=0
    ).astype(np.float32)
    z_mean, z_log_var = mean_encoder.predict(
        condition_inputs.keras_inputs(specs, "image", images, values),
        verbose=0)
    seeds = row_seeds(REFERENCE_ROWS, 0)
    eps, _ = row_draws(seeds, latent_dim)
    reference = {
        "serving_default/image": images,
        "serving_default/z_mean": z_mean,
        "serving_default/z_log_var": z_log_var,
        "encode_sample/image": images,
        "encode_sample/seed": seeds,
        "encode_sample/z_mean": z_mean,
        "encode_sample/z_log_var": z_log_var,
        "encode_sample/z": np.asarray(
            reparametrize(z_mean, z_log_var, eps.numpy())),
    }
    for signature in (SERVING_DEFAULT, ENCODE_SAMPLE):
        reference.update({f"{signature}/{k}": v for k, v in values.items()})
    warmup = [_first_rows(reference, SERVING_DEFAULT, ["image", *names]),
              _first_rows(reference, ENCODE_SAMPLE,
                          ["image", "seed", *names])]
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
    specs = config.specs()
    factor_specs = condition_inputs.input_specs(specs)
    names = [spec.name for spec in factor_specs]
    archive = keras.export.ExportArchive()
    archive.track(serving)

    # A sub-pixel layer is a forward convolution, which needs the row for
    # an empty batch as the encoder's first one does.
    def decode(z, *factors):
        inputs, valid = _conditioned(specs, "z", z, factors)
        return _marked({"image": _batch_safe(serving, inputs)}, valid)

    def sample(seed, *factors):
        if not specs:
            z = sampler.tf_sample(seed)
            return {"image": _batch_safe(serving, z), "z": z}
        # A conditional run's mixture draws follow the classes too
        # (`samplers.conditional`).
        encoded, valid = condition_inputs.encode(specs, factors,
                                                 tf.shape(seed)[0])
        z = sampler.tf_sample(seed, conditions=encoded)
        return _marked({"image": _batch_safe(serving, {"z": z, **encoded}),
                        "z": z}, valid)

    archive.add_endpoint(
        SERVING_DEFAULT, decode,
        input_signature=[tf.TensorSpec((None, latent_dim), tf.float32, "z"),
                         *factor_specs],
    )
    archive.add_endpoint(
        SAMPLE, sample,
        input_signature=[tf.TensorSpec((None,), tf.int64, "seed"),
                         *factor_specs],
    )
    z = sampler.sample(REFERENCE_ROWS, seed=1)
    seeds = row_seeds(REFERENCE_ROWS, 0)
    values = condition_inputs.reference_values(specs, REFERENCE_ROWS)
    # `sample`'s reference shifts the classes, so the two signatures'
    # rows pair other values with their codes.
    sample_values = condition_inputs.reference_values(
        specs, REFERENCE_ROWS, offset=1)
    # The draws follow the classes too (samplers.conditional), under the
    # same encoded conditions the decoder gets.
    conditions = None
    if specs:  # an unconditional export loads no data module
        from vae_tf.data.conditions import encode_conditions

        conditions = encode_conditions(specs, sample_values)
    drawn = sampler.sample(REFERENCE_ROWS, seeds=seeds, conditions=conditions)
    reference = {
        "serving_default/z": z,
        "serving_default/image": decoder.predict(
            condition_inputs.keras_inputs(specs, "z", z, values), verbose=0),
        "sample/seed": seeds,
        "sample/z": drawn,
        "sample/image": decoder.predict(
            drawn if conditions is None else {"z": drawn, **conditions},
            verbose=0),
    }
    reference.update({f"{SERVING_DEFAULT}/{k}": v for k, v in values.items()})
    reference.update({f"{SAMPLE}/{k}": v for k, v in sample_values.items()})
    warmup = [_first_rows(reference, SERVING_DEFAULT, ["z", *names]),
              _first_rows(reference, SAMPLE, ["seed", *names])]
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
