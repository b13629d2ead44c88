"""`build_vae(config)`: the functional-API VAE and its encoder and decoder.

Graph (all standard Keras layers plus the two registered vae_tf layers, so
`model.keras` loads in safe mode):

    image -> encoder body -> Dense z_mean, Dense + SoftClip z_log_var
          -> KLDivergence (adds beta * |KL - C|) -> Sampling -> z
          [-> TotalCorrelation (beta-TCVAE: adds MI + w TC + dim-KL) -> z]
    z     -> decoder body -> likelihood parameters (logits for bernoulli)

The VAE is `keras.Model(image, decoder(encoder(image)[2]))`, trained with
plain `compile` + `fit(x, x)`: the reconstruction term comes from the
compiled `ReconstructionLoss`, the KL term from the layer loss. With a
calibrated decoder (`likelihood_scale=None`, Gaussian or Laplace) the VAE
ends in `CalibratedScale([image, mean])`, which appends log(scale) as one
extra channel for the loss; the encoder and decoder are unchanged.
"""

from __future__ import annotations

import contextlib
import random
from typing import Iterator, NamedTuple, Optional

import keras
from keras import layers

from vae_tf.config import VAEConfig
from vae_tf.layers import (CalibratedScale, KLDivergence, Sampling,
                           SoftClip, TotalCorrelation)
from vae_tf.losses import ReconstructionLoss, ReconstructionMetric
from vae_tf.models.networks import architecture
from vae_tf.models.precision import compute_precision
from vae_tf.schedules import initial_kl_weights, learning_rate_schedule


LOG_VAR_LIMIT = 10.0  # |z_log_var| < 10, see `SoftClip`


class VAEModels(NamedTuple):
    """The trainable VAE and its two halves (they share weights).

    vae: image `(batch, H, W, C)` -> the likelihood's parameters at a
        sampled z, what the loss takes: logits `(batch, H, W, C)` for
        `bernoulli`, means for a fixed scale, and for a calibrated scale
        (the default) `(batch, H, W, C + 1)`, the means and a channel
        holding log(scale). For pictures use `decoder` or
        `vae_tf.reconstruct_images`.
    encoder: image -> `[z_mean, z_log_var, z]`, each `(batch, latent_dim)`.
    decoder: z `(batch, latent_dim)` -> image `(batch, H, W, C)` in the
        data's range (Bernoulli probabilities or Gaussian/Laplace means).
    """

    vae: keras.Model
    encoder: keras.Model
    decoder: keras.Model


def build_vae(
    config: VAEConfig, encoder_body=None, decoder_body=None
) -> VAEModels:
    """Builds the VAE described by `config` (weights seeded by `config.seed`:
    the same seed gives the same initial weights; the caller's random
    number generators are left as they were).

    Args:
        config: the resolved config.
        encoder_body, decoder_body: optional replacements for the
            architecture's bodies, with the signatures of
            `vae_tf.models.networks.conv` (`encoder_body(x, config) ->
            features`,
            `decoder_body(z, config, activation) -> params`). The heads,
            KL layer, sampling and likelihood stay vae_tf's.

    Raises:
        ValueError: if `config.input_shape` is unset (resolve it from the
            data first, as `train` does).
    """
    if config.input_shape is None:
        raise ValueError(
            "config.input_shape is None: set it to (height, width, channels)"
            " or let `vae_tf.train` take it from the data."
        )
    config = config.resolve()
    config.validate()
    with _initializer_seeds(config.seed):
        return _build(config, encoder_body, decoder_body)


@contextlib.contextmanager
def _initializer_seeds(seed: int) -> Iterator[None]:
    """Seeds the initializers of the layers built inside, and nothing else.

    A Keras initializer without a seed takes one from Python's `random`
    module when it is created (`keras.random.make_default_seed`), so the
    weights follow that module's state: it is seeded here and restored
    afterwards. (`keras.utils.set_random_seed` would also reseed NumPy,
    TensorFlow and Keras for the rest of the caller's program.)
    """
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _build(config: VAEConfig, encoder_body, decoder_body) -> VAEModels:
    """Everything but the two bodies computes in float32; the bodies in
    `config.precision`."""
    with compute_precision("float32"):
        return _build_layers(config, encoder_body, decoder_body)


def _build_layers(config: VAEConfig, encoder_body,
                  decoder_body) -> VAEModels:
    net = architecture(config.architecture)
    specs = config.specs()
    _check_condition_names(specs)

    image = keras.Input(shape=config.input_shape, name="image")
    conditions = _condition_inputs(specs)
    with compute_precision(config.precision):
        h = (encoder_body or net.encoder_body)(image, config)
    if conditions:
        h = layers.Concatenate(name="encoder_condition")(
            [h, *conditions.values()])
    z_mean = layers.Dense(config.latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(config.latent_dim, name="z_log_var_raw")(h)
    # Bounded log-variance: exp() stays finite whatever the weights do.
    z_log_var = SoftClip(LOG_VAR_LIMIT, name="z_log_var")(z_log_var)
    initial_beta, initial_capacity = initial_kl_weights(config)
    tc = config.objective == "beta-tcvae"
    z_mean, z_log_var = KLDivergence(
        beta=0.0 if tc else initial_beta, capacity=initial_capacity,
        free_bits=config.free_bits, name="kl_divergence"
    )([z_mean, z_log_var])
    z = Sampling(seed=config.seed, name="z")([z_mean, z_log_var])
    if tc:
        z = TotalCorrelation(
            dataset_size=config.num_examples, tc_weight=config.tc_weight,
            name="total_correlation",
        )([z_mean, z_log_var, z])
    encoder = keras.Model(_with(image, "image", conditions),
                          [z_mean, z_log_var, z], name="encoder")

    latent = keras.Input(shape=(config.latent_dim,), name="z")
    conditions = _condition_inputs(specs)
    code = latent
    if conditions:
        code = layers.Concatenate(name="decoder_condition")(
            [latent, *conditions.values()])
    mean_activation = None if config.likelihood == "bernoulli" else "sigmoid"
    with compute_precision(config.precision):
        params = (decoder_body or net.decoder_body)(
            code, config, activation=mean_activation
        )
    if params.dtype != "float32":  # a bfloat16 body's last layer
        params = layers.Activation(None, name="params_float32")(params)
    param_decoder = keras.Model(_with(latent, "z", conditions), params,
                                name="decoder")

    vae_input = keras.Input(shape=config.input_shape, name="image")
    conditions = _condition_inputs(specs)
    z = encoder(_with(vae_input, "image", conditions))[2]
    params = param_decoder(_with(z, "z", conditions))
    if is_calibrated(config):
        params = CalibratedScale(config.likelihood, name="calibrated_scale")(
            [vae_input, params]
        )
    vae = keras.Model(_with(vae_input, "image", conditions), params,
                      name="vae")
    return VAEModels(vae, encoder, image_decoder(param_decoder, config))


def _condition_inputs(specs) -> dict:
    """One named input per conditioned factor, `(batch, spec.width)`."""
    return {s.name: keras.Input(shape=(s.width,), name=s.name)
            for s in specs}


def _with(main, name: str, conditions: dict):
    """`main` alone (an unconditional model's single input), or a dict
    of it under `name` and the condition inputs."""
    return {name: main, **conditions} if conditions else main


def _check_condition_names(specs) -> None:
    clash = [s.name for s in specs if s.name in ("image", "z")]
    if clash:
        raise ValueError(
            f"A conditioned factor is named {clash[0]!r}, the name of the "
            "model's own input: rename the attribute in the data.")


def is_calibrated(config: VAEConfig) -> bool:
    """Whether the decoder's pixel scale is calibrated (not fixed)."""
    return config.likelihood != "bernoulli" and config.likelihood_scale is None


def likelihood_scale(vae: keras.Model, config: VAEConfig) -> float:
    """The pixel scale evaluation uses: the calibrated one stored in the
    VAE's `CalibratedScale` layer, else `config.likelihood_scale` (1.0
    for `bernoulli`, where it is unused)."""
    for layer in vae.layers:
        if isinstance(layer, CalibratedScale):
            return float(keras.ops.convert_to_numpy(layer.scale))
    return 1.0 if config.likelihood_scale is None else config.likelihood_scale


def image_decoder(param_decoder: keras.Model, config: VAEConfig):
    """Wraps the parameter decoder so it returns images, not logits."""
    if config.likelihood != "bernoulli":
        return param_decoder
    latent = keras.Input(shape=(config.latent_dim,), name="z")
    conditions = _condition_inputs(config.specs())
    probs = layers.Activation("sigmoid", name="image")(
        param_decoder(_with(latent, "z", conditions)))
    return keras.Model(_with(latent, "z", conditions), probs,
                       name="image_decoder")


def moments_encoder(encoder: keras.Model) -> keras.Model:
    """image -> `[z_mean, z_log_var]`: the encoder without its Sampling
    output, so calling it draws nothing (the Sampling layer's seed state,
    which training and resuming depend on, stays where it was); shares the
    encoder's weights."""
    return keras.Model(encoder.inputs, encoder.outputs[:2],
                       name="moments_encoder")


def leaf_layers(model: keras.Model):
    """Yields the layers of `model` that are not models, descending into
    nested models (the encoder/decoder inside the VAE)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def compute_dtype(model: keras.Model) -> str:
    """`"bfloat16"` or `"float16"` if any layer of `model` (nested
    models included) computes in it, else `"float32"`."""
    for layer in leaf_layers(model):
        if layer.compute_dtype in ("bfloat16", "float16"):
            return layer.compute_dtype
    return "float32"


def in_precision(models: VAEModels, config: VAEConfig,
                 precision: str) -> VAEModels:
    """The same weights in a VAE that computes in `precision` (`float32`
    or `bfloat16`): `models` itself if it already does, else a rebuild.
    Weights are float32 under either precision, so nothing is rounded."""
    if compute_dtype(models.vae) == precision:
        return models
    return rebuild(models, config.replace(precision=precision))


def rebuild(models: VAEModels, config: VAEConfig) -> VAEModels:
    """A new VAE built from `config` (outside any distribution strategy
    unless called in its scope) holding `models`' weights."""
    fresh = build_vae(config)
    fresh.vae.set_weights(models.vae.get_weights())
    return fresh


def set_dataset_size(model: keras.Model, size: int) -> None:
    """Sets N, the training-set size the beta-TCVAE estimator weighs
    each image by, in every `TotalCorrelation` layer of `model`; no-op
    for other objectives."""
    for layer in leaf_layers(model):
        if isinstance(layer, TotalCorrelation):
            layer.dataset_size.assign(float(size))


def split_vae(vae: keras.Model, config: VAEConfig) -> VAEModels:
    """Recovers encoder and image decoder from a (reloaded) VAE."""
    try:
        encoder = vae.get_layer("encoder")
        param_decoder = vae.get_layer("decoder")
    except ValueError:
        raise ValueError(
            f"Model {vae.name!r} is not a vae_tf VAE: it has no 'encoder' and"
            " 'decoder' sub-models."
        ) from None
    return VAEModels(vae, encoder, image_decoder(param_decoder, config))


def compile_vae(
    vae: keras.Model, config: VAEConfig,
    steps_per_epoch: Optional[int] = None, **compile_kwargs,
):
    """`vae.compile` with Adam, the reconstruction loss and its metric.

    After this, `fit` reports `loss` (negative ELBO when beta = 1),
    `reconstruction` and `kl`, all in nats per image.

    Args:
        steps_per_epoch: batches per epoch, for `lr_schedule="cosine"`
            (which decays over `config.epochs * steps_per_epoch` steps);
            `None` estimates it from `config.num_examples`.
    """
    scale = None if is_calibrated(config) else (
        config.likelihood_scale or 1.0
    )
    optimizer = keras.optimizers.Adam(
        learning_rate_schedule(config, steps_per_epoch))
    if compute_dtype(vae) == "float16":
        # float16's 5-bit exponent flushes small gradients to zero: scale
        # the loss up and the gradients back (dynamically).
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    kwargs = dict(
        optimizer=optimizer,
        loss=ReconstructionLoss(config.likelihood, scale,
                                frequency_weight=config.frequency_weight),
        metrics=[ReconstructionMetric(config.likelihood, scale)],
        steps_per_execution=config.steps_per_execution,
        jit_compile=config.jit_compile,
    )
    kwargs.update(compile_kwargs)
    vae.compile(**kwargs)
    return vae
