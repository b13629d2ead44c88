"""`vae-tf sample|reconstruct|interpolate|traverse|edit`: a run's pictures."""

from __future__ import annotations

import argparse

from vae_tf.cli import options
from vae_tf.generate.interpolation import INTERPOLATIONS
from vae_tf.samplers import SAMPLERS


def add_sample(commands) -> None:
    p = options.run_command(commands, "sample",
                            "decode sampled z into a PNG grid", _sample)
    p.add_argument("--n", type=int, default=32, help="images (default 32)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="scale of z's deviation from the sampler's means "
                        "(default 1)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="mixture or flow (fitted to the training codes) or "
                        "prior N(0, I) (default: the run's sampler)")
    p.add_argument(
        "--decoder", default=None, metavar="SAVEDMODEL",
        help="use an exported decoder SavedModel instead of RUN_DIR's model "
             "(RUN_DIR is then not read); at temperature 1 its own sample "
             "signature draws z",
    )
    p.add_argument(
        "--set", default=None, metavar="FACTOR=VALUE[,...]",
        help="a conditional run's factors for every draw, e.g. "
             "glasses=1,beard=0,hair_color=red (one value per factor)")


def _sample(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return options.wrote(args, figures.run_samples_png(
        lambda: options.load_run(args), args.out, args.n, args.temperature,
        args.seed, args.sampler, args.decoder, args.set))


def add_image_commands(commands) -> None:
    p = options.image_command(commands, "reconstruct",
                              "originals over reconstructions, as a PNG",
                              _reconstruct)
    p.add_argument("--n", type=int, default=8, help="images")
    p = options.image_command(commands, "interpolate",
                              "latent interpolation strips between image pairs",
                              _interpolate)
    p.add_argument("--pairs", type=int, default=4, help="strips")
    p.add_argument("--steps", type=int, default=10,
                   help="points per strip, endpoints included")
    p.add_argument("--method", default=INTERPOLATIONS[0],
                   choices=INTERPOLATIONS,
                   help="latent path (default slerp, which keeps the norm)")
    p = options.image_command(
        commands, "traverse",
        "one row per latent dimension, moved across values", _traverse)
    p.add_argument("--dims", type=options.ints, default=None,
                   help="latent dims, e.g. 0,3,5 (default: the 8 with the "
                        "most KL)")
    p.add_argument("--values", type=options.floats, default="-3:3:9",
                   help="values 'a,b,c' or 'start:stop:count' (default "
                        "-3:3:9; write --values=-2:2:5 when the first is "
                        "negative)")
    p.add_argument("--index", type=int, default=None,
                   help="start from this image of --split (default: z = 0)")
    p = options.image_command(
        commands, "edit",
        "add an attribute vector (e.g. smile) at rising strength", _edit)
    p.add_argument("--attribute", required=True,
                   help="attribute name, e.g. smile, glasses, beard, or "
                        "one class of a categorical one: hair_color=red")
    p.add_argument("--strengths", type=options.floats, default="0,0.5,1,1.5,2",
                   help="multiples of the attribute vector (default "
                        "0,0.5,1,1.5,2; --strengths=-1,0,1 when the first "
                        "is negative)")
    p.add_argument("--n", type=int, default=6, help="images")
    p.add_argument("--way", choices=("vector", "dimension", "condition"),
                   default=None,
                   help="what the picture moves: the attribute vector "
                        "(default) or the one latent dimension best aligned "
                        "with the attribute (the printed leakage table "
                        "compares both); a conditional run's condition "
                        "input (its default and only way)")


def _reconstruct(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return options.wrote(args, figures.reconstruct_png(
        options.load_run(args), args.out, args.n, args.split, args.seed))


def _interpolate(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return options.wrote(args, figures.interpolate_png(
        options.load_run(args), args.out, args.pairs, args.steps,
        args.method, args.split, args.seed))


def _traverse(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return options.wrote(args, figures.traverse_png(
        options.load_run(args), args.out, args.dims, args.values,
        args.index, args.split))


def _edit(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    path, effects = figures.edit_png(
        options.load_run(args), args.attribute, args.out, args.strengths,
        args.n, args.split, args.seed, way=args.way)
    if effects is not None:
        print(figures.describe_edit(effects))
    return options.wrote(args, path)
