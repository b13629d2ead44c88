"""Flags and helpers shared by the `vae-tf` command groups: the flags
that map onto `VAEConfig` fields, argument types, and the RUN_DIR
subcommand skeleton."""

from __future__ import annotations

import argparse
import os

# Choice names, each from the module that implements it (none of these
# imports TensorFlow, so `vae-tf --help` stays fast and quiet).
from vae_tf.data import SPLITS
from vae_tf.data.photos import IMAGE_FITS
from vae_tf.distributions.likelihoods import LIKELIHOODS
from vae_tf.models.networks import ARCHITECTURES
from vae_tf.models.objectives import OBJECTIVES
from vae_tf.models.precision import PRECISIONS
from vae_tf.samplers import SAMPLER_CHOICES
from vae_tf.schedules import BETA_SCHEDULES, LR_SCHEDULES

# Flags that map one-to-one onto VAEConfig fields.
CONFIG_FLAGS = (
    "data", "data_dir", "epochs", "latent_dim", "beta", "likelihood",
    "architecture", "beta_schedule", "batch_size", "learning_rate",
    "num_examples", "seed", "likelihood_scale", "lr_schedule", "sampler",
    "precision", "free_bits", "frequency_weight", "objective", "tc_weight",
    "condition", "image_fit", "strict_images", "horizontal_flip",
)


def scale(text: str):
    """A positive pixel scale, or 'calibrated' (None)."""
    if text == "calibrated":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive number or 'calibrated', got {text!r}"
        )
    return value


def add_config_flags(p) -> None:
    """The flags that map onto `VAEConfig` fields (`CONFIG_FLAGS`)."""
    _data_flags(p)
    _model_flags(p)
    _training_flags(p)


def _data_flags(p) -> None:
    p.add_argument(
        "--data", default=None,
        help="faces (default, procedural), shapes, fashion_mnist, "
             "folder:PATH, npz:PATH or shards:DIR (from vae-tf prepare)",
    )
    p.add_argument(
        "--data-dir", default=None,
        help="extra folder searched first for fashion_mnist idx files",
    )
    p.add_argument(
        "--config", default=None, metavar="FILE.json",
        help="start from this config (e.g. a run's config.json)",
    )
    p.add_argument(
        "--num-examples", type=int,
        help="training images generated for faces/shapes",
    )
    add_image_flags(p)
    p.add_argument(
        "--flip", dest="horizontal_flip", action="store_const", const=True,
        default=None,
        help="augment: mirror each training image left-right with "
             "probability 1/2, anew every epoch")


def add_image_flags(p) -> None:
    """--image-size, --channels, --fit, --strict (train and prepare)."""
    p.add_argument(
        "--image-size", type=image_size, default=None, metavar="H[xW]",
        help="image height and width in pixels (128, or 96x128): the size "
             "faces/shapes are drawn at and folder photos are fitted to "
             "(default 64)")
    p.add_argument(
        "--channels", type=int, choices=(1, 3), default=None,
        help="1 (grey) or 3 (RGB) for folder photos (default: 3; shapes "
             "and fashion_mnist are grey)")
    p.add_argument(
        "--fit", dest="image_fit", choices=IMAGE_FITS, default=None,
        help="how folder photos take --image-size: crop (the centre, "
             "default), pad (black borders) or stretch")
    p.add_argument(
        "--strict", dest="strict_images", action="store_const", const=True,
        default=None,
        help="refuse a folder with unreadable image files (default: skip "
             "them and list them)")


def image_size(text: str) -> tuple[int, int]:
    """'128' -> (128, 128); '96x128' -> (96, 128) (height x width)."""
    parts = text.lower().split("x")
    try:
        values = tuple(int(v) for v in parts)
    except ValueError:
        values = ()
    if len(values) not in (1, 2) or min(values, default=0) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a size in pixels, 128 or HEIGHTxWIDTH like 96x128; "
            f"got {text!r}")
    return values * 2 if len(values) == 1 else values


def input_shape(args: argparse.Namespace, data: str, current=None):
    """`(H, W, C)` from --image-size/--channels over `current` (the
    config's `input_shape`), or `current` when neither is given."""
    size, channels = getattr(args, "image_size", None), \
        getattr(args, "channels", None)
    if size is None and channels is None:
        return current
    if size is None:
        size = current[:2] if current else (64, 64)
    if channels is None:
        grey = data in ("shapes", "fashion_mnist")
        channels = current[2] if current else (1 if grey else 3)
    return (int(size[0]), int(size[1]), int(channels))


def names(text: str) -> tuple[str, ...]:
    """`glasses,beard` -> ("glasses", "beard")."""
    found = tuple(t.strip() for t in text.split(",") if t.strip())
    if not found:
        raise argparse.ArgumentTypeError(
            f"expected FACTOR[,FACTOR...], got {text!r}")
    return found


def _model_flags(p) -> None:
    p.add_argument("--latent-dim", type=int, help="latent dimensions")
    p.add_argument(
        "--condition", type=names, metavar="FACTOR[,FACTOR...]",
        help="a conditional VAE given these labelled factors (faces: "
             "glasses, beard, hair_color, smile, skin_tone, ...; shapes: "
             "its factors; fashion_mnist: label); sample it with vae-tf "
             "sample RUN --set glasses=1,hair_color=red")
    p.add_argument(
        "--beta", type=float, help="KL weight (1 = VAE, >1 = beta-VAE)"
    )
    p.add_argument(
        "--likelihood", choices=LIKELIHOODS, help="reconstruction likelihood"
    )
    p.add_argument(
        "--likelihood-scale", type=scale, default=argparse.SUPPRESS,
        metavar="SCALE",
        help="pixel scale of gaussian/laplace, or 'calibrated' (default: "
             "the maximum-likelihood scale of the batch error)",
    )
    p.add_argument(
        "--architecture", choices=ARCHITECTURES, help="network type"
    )
    p.add_argument(
        "--beta-schedule", choices=BETA_SCHEDULES, help="beta schedule"
    )
    p.add_argument(
        "--free-bits", type=float, metavar="NATS",
        help="KL per latent dimension the loss does not penalise "
             "(default 0)")
    p.add_argument(
        "--objective", choices=OBJECTIVES,
        help="vae (beta * KL, default) or beta-tcvae (Chen et al. 2018: "
             "the KL's total correlation weighted by --tc-weight)")
    p.add_argument(
        "--tc-weight", type=float, metavar="W",
        help="total correlation weight of --objective beta-tcvae "
             "(default 6)")
    p.add_argument(
        "--frequency-weight", type=float, metavar="W",
        help="weight of a focal frequency term in the reconstruction loss "
             "(Jiang et al. 2021; default 0, off)")
    p.add_argument(
        "--precision", choices=PRECISIONS,
        help="float32, bfloat16 or float16 (mixed: networks in 16 bits, "
             "losses and outputs in float32; float16 with loss scaling) or "
             "auto (bfloat16 on AVX512_BF16/AMX CPUs and GPUs of compute "
             "capability 8.0+, float16 on 7.x GPUs, else float32)",
    )


def _training_flags(p) -> None:
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES,
        help="learning rate: constant, cosine decay over the run, or "
             "one_cycle (warm-up to --learning-rate, then anneal)",
    )
    p.add_argument(
        "--sampler", choices=SAMPLER_CHOICES,
        help="what samples.png and the exported sample signature draw z "
             "from: mixture or flow (fitted to the training codes), auto "
             "(the one better on the validation split) or prior"
    )
    p.add_argument("--batch-size", type=int, help="images per step")
    p.add_argument("--learning-rate", type=float, help="Adam step size")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--set", dest="config_set", action="append", default=[],
        metavar="FIELD=VALUE",
        help="any VAEConfig field, after the other flags; repeatable; the "
             "value is JSON where it parses (--set widths=[32,64,128] "
             "--set capacity_max=50 --set binarize=false), else text. "
             "`vae-tf config` lists every field")


def config_from_args(args: argparse.Namespace):
    from vae_tf.config import VAEConfig

    config = VAEConfig.load(args.config) if args.config else VAEConfig()
    # --likelihood-scale is absent unless given ('calibrated' gives None).
    changes = {
        name: getattr(args, name) for name in CONFIG_FLAGS
        if hasattr(args, name) and (
            getattr(args, name) is not None or name == "likelihood_scale"
        )
    }
    shape = input_shape(args, changes.get("data", config.data),
                        config.input_shape)
    if shape != config.input_shape:
        changes["input_shape"] = shape
    # --set comes last: it wins over the flag of the same field.
    changes.update(field_settings(getattr(args, "config_set", ())))
    return config.replace(**changes)


def field_settings(items) -> dict:
    """`["widths=[32,64]", "binarize=false"]` -> {field: value}: JSON
    values where they parse, else text; `ConfigError` naming an unknown
    field (with the fields there are) or a malformed item."""
    import dataclasses
    import json

    from vae_tf.config import ConfigError, VAEConfig

    fields = [f.name for f in dataclasses.fields(VAEConfig)]
    out = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(
                f"--set takes FIELD=VALUE, e.g. --set latent_dim=32. "
                f"Received: {item!r}")
        if name not in fields:
            raise ConfigError(
                f"VAEConfig has no field {name!r}. Fields: "
                f"{', '.join(fields)}")
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def floats(text: str) -> list[float]:
    """'a,b,c' or 'start:stop:count' (inclusive linspace)."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            import numpy as np
            return [float(v) for v in
                    np.linspace(float(start), float(stop), int(count))]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers 'a,b,c' or 'start:stop:count', got {text!r}"
        ) from None


def ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers 'a,b,c', got {text!r}"
        ) from None


def run_command(commands, name: str, help_text: str, handler):
    """A subcommand on RUN_DIR with --out and --seed, handled by `handler`."""
    p = commands.add_parser(name, help=help_text, description=help_text)
    add_run_arguments(p)
    p.add_argument("--out", default=None, metavar="FILE",
                   help="output file (default: inside RUN_DIR; with a "
                        "pretrained model, the working directory)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(func=handler)
    return p


def image_command(commands, name: str, help_text: str, handler):
    """A RUN_DIR subcommand that draws images from --split."""
    p = run_command(commands, name, help_text, handler)
    p.add_argument("--split", default="test",
                   choices=SPLITS,
                   help="where images come from (default test)")
    return p


def add_run_arguments(p) -> None:
    """RUN_DIR, or --pretrained NAME (default: the faces preset)."""
    from vae_tf.runs.presets import DEFAULT_PRESET, PRESETS

    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?", default=None,
                   help="a vae-tf train run directory (default: the "
                        f"pretrained {DEFAULT_PRESET!r} model)")
    p.add_argument("--pretrained", choices=tuple(PRESETS), default=None,
                   metavar="NAME",
                   help="use a pretrained model that ships with vae_tf "
                        f"({', '.join(PRESETS)}) instead of RUN_DIR")


def run_dir(args: argparse.Namespace) -> str:
    """The run directory the command reads: RUN_DIR, or the preset's."""
    from vae_tf.runs.presets import DEFAULT_PRESET, preset_dir

    if args.run_dir and args.pretrained:
        raise ValueError("Give RUN_DIR or --pretrained, not both.")
    if args.run_dir:
        return args.run_dir
    return preset_dir(args.pretrained or DEFAULT_PRESET)


def load_run(args: argparse.Namespace):
    """The run (outputs written to the working directory for a preset)."""
    from vae_tf.runs import Run

    folder = run_dir(args)
    output_dir = None if args.run_dir else os.getcwd()
    return Run(folder, verbose="auto", output_dir=output_dir)


def wrote(args: argparse.Namespace, path: str) -> int:
    print(f"vae-tf {args.command}: wrote {path}")
    return 0
