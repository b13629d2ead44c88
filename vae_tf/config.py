"""`VAEConfig`: the one JSON-serialisable description of a run.

The same config builds the model (`build_vae`), trains it (`train`), is
saved beside it as `config.json` and, later, drives its export.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Optional

from vae_tf._internal import io_utils
from vae_tf._internal.checks import (  # noqa: F401 (ConfigError: public)
    ConfigError, check_bool, check_choice, check_positive_float,
    check_positive_int, is_int, is_number)
# Each choice's names live with the code that implements it; these modules
# load without TensorFlow.
from vae_tf.distributions.likelihoods import LIKELIHOODS
from vae_tf.models.networks import (ARCHITECTURES, check_conv_shape,
                                    default_widths)
from vae_tf.models.objectives import check_objective
from vae_tf.samplers import SAMPLER_CHOICES
from vae_tf.models.precision import PRECISIONS, resolve_precision
from vae_tf.schedules import BETA_SCHEDULES, LR_SCHEDULES


@dataclasses.dataclass
class VAEConfig:
    """Model, objective and training settings of one VAE run.

    Model:
        input_shape: `(height, width, channels)` of the images, or `None` to
            take it from the data set when training.
        latent_dim: number of latent dimensions `K`.
        architecture: `"conv"` (strided convolutions), `"resconv"` (the
            same plus residual blocks at low resolution) or `"mlp"`.
        widths: conv filters per stride-2 layer (`conv`) or hidden units
            per dense layer (`mlp`), encoder order; the decoder mirrors it.
            `None` picks them from the image size (`default_widths`).
        dense_units: width of the dense layer between the conv stack and
            the latent heads (`conv` only; 0 for none).
        condition: labelled factors the model is conditioned on
            (`("glasses", "hair_color")`), or `None`: encoder and decoder
            then take one extra named input per factor (one-hot for
            classes, standardised values; `vae_tf.data.conditions`).
        condition_specs: the factors' encodings (`ConditionSpec.to_dict`
            dicts), resolved from the training data by `with_conditions`;
            `None` until then.

    Objective (nats per image):
        likelihood: `"bernoulli"` (logits), `"gaussian"` or `"laplace"`
            (the L1 loss) reconstruction likelihood p(x|z).
        likelihood_scale: standard deviation (`gaussian`) or scale
            (`laplace`) of every pixel, in pixel units; `None` calibrates
            it (Rybkin et al. 2021): the maximum-likelihood scale of the
            batch error in training, its running mean in evaluation
            (`vae_tf.layers.CalibratedScale`).
        beta: weight of the KL term; 1 gives the plain VAE (ELBO).
        beta_schedule: `"constant"`, `"linear"` (warm-up from 0 over
            `warmup_steps`), `"cyclical"` (Fu et al. 2019; `num_cycles`
            cycles over the run, rising for `cycle_ratio` of each) or
            `"capacity"` (Burgess et al. 2018; `beta * |KL - C|` with `C`
            raised linearly to `capacity_max` nats over `capacity_steps`).
        free_bits: nats of KL per latent dimension the loss does not
            penalise (Kingma et al. 2016; 0 = the plain ELBO).
        objective: `"vae"` (the beta-weighted KL above) or `"beta-tcvae"`
            (Chen et al. 2018: the KL split into index-code mutual
            information, total correlation and dimension-wise KL, the
            total correlation weighted by `tc_weight`;
            `vae_tf.models.objectives`). `beta-tcvae` needs `beta` 1, a
            constant `beta_schedule` and no `free_bits`.
        tc_weight: weight of the total correlation under `beta-tcvae`
            (the paper's beta; 1 gives the plain KL back).
        frequency_weight: weight of a focal frequency term added to the
            reconstruction loss (`vae_tf.losses.focal_frequency`, Jiang et
            al. 2021; 0 = off). The reported `reconstruction` stays the
            NLL.

    Training:
        data: `faces`, `shapes`, `fashion_mnist`, `folder:PATH`,
            `npz:PATH` or `shards:DIR`.
        data_dir: extra place to look for `fashion_mnist` files.
        image_fit: how `folder:` photos take `input_shape`: `"crop"` (the
            centre, default), `"pad"` (black borders) or `"stretch"`.
        strict_images: refuse a folder with unreadable files instead of
            skipping them (they are listed either way).
        horizontal_flip: mirror each training image left-right with
            probability 1/2, drawn anew every epoch (seeded).
        num_examples: training images to generate for procedural data
            (`faces`, `shapes`); validation and test sets get a tenth each.
        binarize: dynamic binarization of training images (resampled
            every epoch); `None` means "on for `bernoulli`".
        epochs, batch_size, learning_rate: passes over the training
            split; images per step (global); Adam's (peak) step size.
        lr_schedule: `"constant"`, `"cosine"` decay of the learning
            rate to 0 over the run (Loshchilov & Hutter 2017), or
            `"one_cycle"`: warm-up to `learning_rate` over 30% of the
            steps, then cosine anneal (Smith & Topin 2019).
        sampler: where `samples.png`, `vae-tf sample` and the exported
            `sample` signature draw z from: `"mixture"` (a Gaussian mixture
            fitted to the training codes after training, Ghosh et al.
            2020), `"flow"` (a RealNVP flow fitted to them), `"auto"`
            (whichever of the two scores best on the validation split,
            `vae_tf.samplers.selection`) or `"prior"` (N(0, I)).
        seed: seeds weights, sampling noise, data generation and shuffling.

    Speed (CPU; see benchmarks/README.md for the measurements):
        steps_per_execution: training steps per compiled call; > 1 cuts
            the per-step Python and dispatch overhead.
        jit_compile: XLA-compile the train step. Off by default: on the
            2-core CPUs measured, XLA made the conv VAE slower.
        precision: `"float32"`, `"bfloat16"`, `"float16"` (mixed: networks
            in 16 bits, heads, KL and losses in float32; float16 with loss
            scaling) or `"auto"` (by the hardware: `vae_tf.models.precision`).
            Weights and exports are float32 at their edges.
    """

    input_shape: Optional[tuple[int, int, int]] = None
    latent_dim: int = 16
    architecture: str = "conv"
    widths: Optional[tuple[int, ...]] = None
    dense_units: int = 256
    condition: Optional[tuple[str, ...]] = None
    condition_specs: Optional[tuple[dict, ...]] = None

    likelihood: str = "gaussian"
    likelihood_scale: Optional[float] = None
    beta: float = 1.0
    beta_schedule: str = "constant"
    warmup_steps: int = 1000
    num_cycles: int = 4
    cycle_ratio: float = 0.5
    capacity_max: float = 25.0
    free_bits: float = 0.0
    objective: str = "vae"
    tc_weight: float = 6.0
    frequency_weight: float = 0.0
    capacity_steps: int = 10000

    data: str = "faces"
    data_dir: Optional[str] = None
    image_fit: str = "crop"
    strict_images: bool = False
    horizontal_flip: bool = False
    num_examples: int = 10000
    binarize: Optional[bool] = None
    # The 5-minute default on 2 cores: one cycle to a 3e-3 peak over 12
    # epochs reached reconstruction FD 0.46 in the time 10 constant-rate
    # epochs reach 1.78 (benchmarks/README.md, "The 5-minute recipe").
    epochs: int = 12
    batch_size: int = 32
    learning_rate: float = 3e-3
    lr_schedule: str = "one_cycle"
    sampler: str = "mixture"
    seed: int = 0
    steps_per_execution: int = 1
    jit_compile: bool = False
    precision: str = "auto"

    def __post_init__(self) -> None:
        if self.input_shape is not None:
            self.input_shape = tuple(self.input_shape)
        if self.widths is not None:
            self.widths = tuple(self.widths)
        if isinstance(self.condition, (list, tuple)):
            self.condition = tuple(self.condition)
        if isinstance(self.condition_specs, (list, tuple)):
            self.condition_specs = tuple(self.condition_specs)
        self.validate()

    # -- validation -------------------------------------------------------

    def validate(self) -> None:
        """Raises `ConfigError` naming the first invalid field."""
        self._validate_model()
        self._validate_condition()
        self._validate_objective()
        self._validate_training()
        self._validate_conv_shape()

    def _validate_model(self) -> None:
        if self.input_shape is not None:
            if len(self.input_shape) != 3 or not all(
                is_int(d) and d > 0 for d in self.input_shape
            ):
                raise ConfigError(
                    "Expected `input_shape` to be three positive integers "
                    "(height, width, channels). Received: "
                    f"input_shape={self.input_shape}"
                )
        check_positive_int("latent_dim", self.latent_dim)
        check_choice("architecture", self.architecture, ARCHITECTURES)
        if self.widths is not None and (
            not self.widths
            or not all(is_int(w) and w > 0 for w in self.widths)
        ):
            raise ConfigError(
                "Expected `widths` to be a non-empty list of positive "
                f"integers. Received: widths={list(self.widths)}"
            )
        if not is_int(self.dense_units) or self.dense_units < 0:
            raise ConfigError(
                "Expected `dense_units` to be a non-negative integer. "
                f"Received: dense_units={self.dense_units}"
            )

    def _validate_condition(self) -> None:
        if self.condition is None:
            if self.condition_specs is not None:
                raise ConfigError(
                    "condition_specs is set but condition is not: set "
                    "condition to the factors' names, or remove both.")
            return
        # Only conditional configs load vae_tf.data (exports must not).
        from vae_tf.data.conditions import read_specs

        try:
            read_specs(self.condition, self.condition_specs)
        except ValueError as err:
            raise ConfigError(str(err)) from None

    def specs(self):
        """The resolved `ConditionSpec`s, `[]` for an unconditional model.

        Raises:
            ConfigError: `condition` is set but not yet resolved.
        """
        if self.condition is None:
            return []
        if self.condition_specs is None:
            raise ConfigError(
                f"condition={list(self.condition)} is not resolved: call "
                "config.with_conditions(training_attributes) first.")
        from vae_tf.data.conditions import read_specs

        return read_specs(self.condition, self.condition_specs)

    def with_conditions(self, attributes, data_name=None) -> "VAEConfig":
        """A copy whose `condition_specs` are read off the training split's
        `attributes` (`vae_tf.data.conditions.condition_specs`); itself
        for an unconditional config."""
        if self.condition is None:
            return self
        from vae_tf.data.conditions import condition_specs

        specs = condition_specs(self.condition, attributes,
                                data_name or self.data)
        return self.replace(
            condition_specs=tuple(s.to_dict() for s in specs))

    def _validate_objective(self) -> None:
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.likelihood_scale is not None:
            check_positive_float("likelihood_scale", self.likelihood_scale)
        if not is_number(self.beta) or self.beta < 0:
            raise ConfigError(
                "Expected `beta` to be a number >= 0 (1 is the plain VAE). "
                f"Received: beta={self.beta}"
            )
        check_choice("beta_schedule", self.beta_schedule, BETA_SCHEDULES)
        check_positive_int("warmup_steps", self.warmup_steps)
        check_positive_int("num_cycles", self.num_cycles)
        if not is_number(self.cycle_ratio) or not 0 < self.cycle_ratio <= 1:
            raise ConfigError(
                "Expected `cycle_ratio` to be in (0, 1]. "
                f"Received: cycle_ratio={self.cycle_ratio}"
            )
        if not is_number(self.free_bits) or self.free_bits < 0:
            raise ConfigError(
                "Expected `free_bits` (nats per latent dimension) to be >= "
                f"0. Received: free_bits={self.free_bits}"
            )
        if not is_number(self.frequency_weight) or \
                self.frequency_weight < 0:
            raise ConfigError(
                "Expected `frequency_weight` to be >= 0 (0 turns the focal "
                f"frequency term off). Received: "
                f"frequency_weight={self.frequency_weight}"
            )
        if not is_number(self.capacity_max) or self.capacity_max < 0:
            raise ConfigError(
                "Expected `capacity_max` (nats) to be >= 0. "
                f"Received: capacity_max={self.capacity_max}"
            )
        check_positive_int("capacity_steps", self.capacity_steps)
        self._validate_tc()

    def _validate_tc(self) -> None:
        try:
            check_objective(self.objective, self.tc_weight, beta=self.beta,
                            beta_schedule=self.beta_schedule,
                            free_bits=self.free_bits)
        except ValueError as err:
            raise ConfigError(str(err)) from None

    def _validate_training(self) -> None:
        if not isinstance(self.data, str) or not self.data:
            raise ConfigError(
                "Expected `data` to be a data set name such as 'faces'. "
                f"Received: data={self.data!r}"
            )
        check_positive_int("num_examples", self.num_examples)
        if self.image_fit != "crop":  # exports of default runs skip data
            from vae_tf.data.photos import IMAGE_FITS

            check_choice("image_fit", self.image_fit, IMAGE_FITS)
        for name in ("strict_images", "horizontal_flip", "jit_compile"):
            check_bool(name, getattr(self, name))
        if self.binarize is not None:
            check_bool("binarize", self.binarize, "true, false or null")
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_positive_float("learning_rate", self.learning_rate)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("sampler", self.sampler, SAMPLER_CHOICES)
        check_positive_int("steps_per_execution", self.steps_per_execution)
        check_choice("precision", self.precision, PRECISIONS)
        if not is_int(self.seed) or self.seed < 0:
            raise ConfigError(
                "Expected `seed` to be a non-negative integer. "
                f"Received: seed={self.seed}"
            )

    def _validate_conv_shape(self) -> None:
        """Conv encoders halve the image once per width."""
        try:
            check_conv_shape(self.architecture, self.input_shape,
                             self.widths)
        except ValueError as err:
            raise ConfigError(str(err)) from None

    def resolve(self, input_shape=None) -> "VAEConfig":
        """A copy with `input_shape` (if given), `widths` and a concrete
        `precision` (not `"auto"`) filled in."""
        config = self
        if config.precision == "auto":
            config = config.replace(
                precision=resolve_precision(config.precision))
        if input_shape is not None:
            config = config.replace(input_shape=tuple(input_shape))
        if config.widths is None and config.input_shape is not None:
            try:
                widths = default_widths(config.architecture,
                                        config.input_shape)
            except ValueError as err:
                raise ConfigError(str(err)) from None
            config = config.replace(widths=widths)
        return config

    @property
    def use_binarization(self) -> bool:
        """Whether training images are dynamically binarized."""
        if self.binarize is None:
            return self.likelihood == "bernoulli"
        return self.binarize

    # -- JSON -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if self.widths is not None:
            out["widths"] = list(self.widths)
        if self.input_shape is not None:
            out["input_shape"] = list(self.input_shape)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "VAEConfig":
        if not isinstance(values, dict):
            raise ConfigError(
                "Expected a JSON object of config fields. Received: "
                f"{type(values).__name__}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"Unknown config field(s) {unknown}. Known fields: "
                f"{sorted(known)}"
            )
        try:
            return cls(**values)
        except TypeError as err:  # e.g. a list where a number belongs
            raise ConfigError(f"Invalid config value: {err}") from None

    @classmethod
    def from_json(cls, text: str) -> "VAEConfig":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"Config is not valid JSON: {err}") from None
        return cls.from_dict(values)

    def save(self, path: str | os.PathLike) -> None:
        """Writes the config as JSON, atomically."""
        io_utils.atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "VAEConfig":
        """Reads a config written by `save` (or by hand)."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise ConfigError(f"Config file not found: {path}") from None
        except OSError as err:
            raise ConfigError(f"Cannot read config {path}: {err}") from None
        try:
            return cls.from_json(text)
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None

    def replace(self, **changes: Any) -> "VAEConfig":
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)
