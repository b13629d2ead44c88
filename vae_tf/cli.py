"""`vae-tf` command line: parses flags into a `VAEConfig`, then calls the
library. No logic of its own beyond that mapping and error reporting."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

from typing import Optional, Sequence

# Choice names, each from the module that implements it (none of these
# imports TensorFlow, so `vae-tf --help` stays fast and quiet).
from vae_tf.data import SPLITS
from vae_tf.distribute import STRATEGIES
from vae_tf.interpolation import INTERPOLATIONS
from vae_tf.likelihoods import LIKELIHOODS
from vae_tf.native_logs import hide_native_logs
from vae_tf.networks import ARCHITECTURES
from vae_tf.precision import COMPUTE_PRECISIONS, PRECISIONS
from vae_tf.samplers import SAMPLERS
from vae_tf.schedules import BETA_SCHEDULES, LR_SCHEDULES

# Flags that map one-to-one onto VAEConfig fields.
_CONFIG_FLAGS = (
    "data", "data_dir", "epochs", "latent_dim", "beta", "likelihood",
    "architecture", "beta_schedule", "batch_size", "learning_rate",
    "num_examples", "seed", "likelihood_scale", "lr_schedule", "sampler",
    "precision",
)


def _scale(text: str):
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


def build_parser() -> argparse.ArgumentParser:
    """The `vae-tf` parser; each subcommand sets `func`, its handler."""
    parser = argparse.ArgumentParser(
        prog="vae-tf",
        description="Variational autoencoders on Keras 3 / TensorFlow.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for add in (_add_train, _add_export, _add_check_export,
                _add_platform_config, _add_sample,
                _add_image_commands, _add_evaluate, _add_prepare,
                _add_explore):
        add(commands)
    for command in commands.choices.values():
        command.add_argument(
            "--verbose", action="store_true",
            help="show TensorFlow's C++ log lines (hidden by default, "
                 "unless TF_CPP_MIN_LOG_LEVEL is set)")
    return parser


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train",
        help="train a VAE and write a run directory",
        description=(
            "Train a VAE with model.fit and write config.json, model.keras, "
            "history.csv, TensorBoard logs/, reconstructions.png and "
            "samples.png to the run directory. Flags override --config."
        ),
    )
    _add_config_flags(train)
    train.add_argument(
        "--out", default=None, metavar="DIR",
        help="run directory (default runs/<date-time>); rerunning the same "
             "command on an interrupted run resumes it",
    )
    train.add_argument(
        "--save-every-steps", type=int, default=None, metavar="N",
        help="back up the training state every N steps (default: every "
             "epoch)",
    )
    train.add_argument(
        "--strategy", choices=STRATEGIES, default=None,
        help="tf.distribute data parallelism: mirrored (this machine's "
             "devices) or multiworker (processes/machines from TF_CONFIG; "
             "run the same command on every worker)",
    )
    train.add_argument(
        "--export", default=None, metavar="NAME",
        help="after training, export NAME_encoder/NAME_decoder SavedModels "
             "(chief only) to --export-base",
    )
    train.add_argument(
        "--export-base", default="saved_models",
        help="base folder for --export (default saved_models)",
    )
    train.add_argument(
        "--deterministic", action="store_true",
        help="enable TF op determinism (GPUs; seeded CPU runs are "
             "identical without it)",
    )
    train.set_defaults(func=_train)


def _add_config_flags(p) -> None:
    """The flags that map onto `VAEConfig` fields (`_CONFIG_FLAGS`)."""
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
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--latent-dim", type=int, help="latent dimensions")
    p.add_argument(
        "--beta", type=float, help="KL weight (1 = VAE, >1 = beta-VAE)"
    )
    p.add_argument(
        "--likelihood", choices=LIKELIHOODS, help="reconstruction likelihood"
    )
    p.add_argument(
        "--likelihood-scale", type=_scale, default=argparse.SUPPRESS,
        metavar="SCALE",
        help="pixel scale of gaussian/laplace, or 'calibrated' (default: "
             "the maximum-likelihood scale of the batch error)",
    )
    p.add_argument(
        "--architecture", choices=ARCHITECTURES, help="network type"
    )
    p.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES,
        help="learning rate: constant or cosine decay over the run",
    )
    p.add_argument(
        "--sampler", choices=SAMPLERS,
        help="what samples.png and the exported sample signature draw z "
             "from: mixture (fitted to the training codes) or prior",
    )
    p.add_argument(
        "--beta-schedule", choices=BETA_SCHEDULES, help="beta schedule"
    )
    p.add_argument("--batch-size", type=int, help="images per step")
    p.add_argument("--learning-rate", type=float, help="Adam step size")
    p.add_argument(
        "--num-examples", type=int,
        help="training images generated for faces/shapes",
    )
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--precision", choices=PRECISIONS,
        help="float32, bfloat16 (mixed: networks in bfloat16, losses and "
             "outputs in float32) or auto (bfloat16 where the CPU has "
             "AVX512_BF16/AMX, or on a GPU)",
    )


def _add_export(commands) -> None:
    export = commands.add_parser(
        "export",
        help="export encoder and decoder SavedModels for TF Serving",
        description=(
            "Write the run's encoder and decoder as BASE/NAME_encoder/<v>/ "
            "and BASE/NAME_decoder/<v>/ (next integer version), atomically."
        ),
    )
    export.add_argument("run_dir", metavar="RUN_DIR",
                        help="a vae-tf train run directory")
    export.add_argument("--name", default="vae",
                        help="model name prefix (default vae)")
    export.add_argument("--base", default="saved_models",
                        help="base folder (default saved_models)")
    export.add_argument("--keep", type=int, default=None, metavar="N",
                        help="keep only the newest N versions of each model")
    export.add_argument("--sampler", choices=SAMPLERS, default=None,
                        help="z source of the decoder's sample signature "
                             "(default: the run's)")
    export.add_argument("--tflite", action="store_true",
                        help="also write the decoder (z -> image) as "
                             "model.tflite in its version folder, checked "
                             "against the SavedModel")
    export.add_argument("--precision", choices=COMPUTE_PRECISIONS,
                        default="float32",
                        help="what the exported graphs compute in (inputs "
                             "and outputs are float32 either way; bfloat16 "
                             "is faster at large batches on CPUs with "
                             "AVX512_BF16)")
    export.set_defaults(func=_export)


def _add_check_export(commands) -> None:
    check = commands.add_parser(
        "check-export",
        help="verify an exported SavedModel (exit 1 with the reason if bad)",
        description=(
            "Check a model base path (newest version) or version folder: "
            "saved_model_cli show/run, a fresh-process tf.saved_model.load "
            "and a TF1 session load against the Keras outputs, the warmup "
            "requests, a TF Serving models.config, and a TF Serving "
            "platform config's rules: the TF1 session under its session "
            "settings, its batching (every signature batchable, rows "
            "independent) and the warmup replay at load."
        ),
    )
    check.add_argument("path", metavar="PATH",
                       help="e.g. saved_models/vae_decoder")
    check.add_argument(
        "--models-config", default=None, metavar="FILE",
        help="TF Serving models.config to check too (default "
             "serving/models.config if it exists)",
    )
    check.add_argument(
        "--platform-config", default=None, metavar="FILE",
        help="TF Serving --platform_config_file whose rules the checks "
             "emulate: session settings, batching, warmup (default "
             "serving/platform_config.txt if it exists)",
    )
    check.add_argument(
        "--base", default=None,
        help="local folder mounted at /models (default: parent of the "
             "model base path)",
    )
    check.add_argument("--atol", type=float, default=1e-5,
                       help="tolerance vs the Keras outputs (default 1e-5)")
    check.set_defaults(func=_check_export)


def _add_platform_config(commands) -> None:
    platform = commands.add_parser(
        "platform-config",
        help="write TF Serving's platform config for a machine's cores",
        description=(
            "Write the --platform_config_file that serving/ uses, for a "
            "serving machine with N cores: one intra-op thread per "
            "session, N batch threads (batches run at once), requests of "
            "up to 1024 rows run in batches of up to 256, warmup on."
        ),
    )
    platform.add_argument(
        "--cores", type=int, default=None, metavar="N",
        help="cores of the serving machine (default: this machine's, "
             f"{os.cpu_count()})")
    platform.add_argument(
        "--out", default="serving/platform_config.txt", metavar="FILE",
        help="where to write it (default serving/platform_config.txt); - "
             "prints it")
    platform.set_defaults(func=_platform_config)


def _add_prepare(commands) -> None:
    prepare = commands.add_parser(
        "prepare",
        help="write a data set as sharded TFRecords to stream from disk",
        description=(
            "Write DATA's train/validation/test splits as TFRecord shards "
            "plus manifest.json; train from them with --data shards:DIR "
            "(the training split then streams from disk)."
        ),
    )
    prepare.add_argument("data", metavar="DATA",
                         help="faces, shapes, fashion_mnist, folder:PATH, "
                              "npz:PATH")
    prepare.add_argument("--out", required=True, metavar="DIR",
                         help="empty output folder")
    prepare.add_argument("--images-per-shard", type=int, default=4096)
    prepare.add_argument("--num-examples", type=int, default=10000,
                         help="training images for faces/shapes")
    prepare.add_argument("--image-size", type=int, default=None,
                         help="side of faces/shapes/folder images "
                              "(default 64)")
    prepare.add_argument("--seed", type=int, default=0)
    prepare.add_argument("--data-dir", default=None,
                         help="extra folder for fashion_mnist")
    prepare.set_defaults(func=_prepare)


def _add_explore(commands) -> None:
    explore = commands.add_parser(
        "explore",
        help="interactive latent explorer in the browser (needs the "
             "[explore] extra)",
        description=(
            "Serve a local web page (Gradio) with the run's decoded face, "
            "one slider per attribute vector and per latent dimension, a "
            "random-face button (the run's sampler), image upload "
            "(encoding) and interpolation between two faces."
        ),
    )
    explore.add_argument("run_dir", metavar="RUN_DIR",
                         help="a vae-tf train run directory")
    explore.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1; "
                              "0.0.0.0 serves other machines)")
    explore.add_argument("--port", type=int, default=7860,
                         help="port (default 7860)")
    explore.set_defaults(func=_explore)


def _floats(text: str) -> list[float]:
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


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers 'a,b,c', got {text!r}"
        ) from None


def _run_command(commands, name: str, help_text: str, handler):
    """A subcommand on RUN_DIR with --out and --seed, handled by `handler`."""
    p = commands.add_parser(name, help=help_text, description=help_text)
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a vae-tf train run directory")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="output file (default: inside RUN_DIR)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(func=handler)
    return p


def _add_sample(commands) -> None:
    p = _run_command(commands, "sample", "decode sampled z into a PNG grid",
                     _sample)
    p.add_argument("--n", type=int, default=32, help="images (default 32)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="scale of z's deviation from the sampler's means "
                        "(default 1)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="mixture (fitted to the training codes) or prior "
                        "N(0, I) (default: the run's config.sampler)")
    p.add_argument(
        "--decoder", default=None, metavar="SAVEDMODEL",
        help="use an exported decoder SavedModel instead of RUN_DIR's model "
             "(pass - as RUN_DIR); at temperature 1 its own sample "
             "signature draws z",
    )


def _image_command(commands, name: str, help_text: str, handler):
    """A RUN_DIR subcommand that draws images from --split."""
    p = _run_command(commands, name, help_text, handler)
    p.add_argument("--split", default="test",
                   choices=SPLITS,
                   help="where images come from (default test)")
    return p


def _add_image_commands(commands) -> None:
    p = _image_command(commands, "reconstruct",
                       "originals over reconstructions, as a PNG",
                       _reconstruct)
    p.add_argument("--n", type=int, default=8, help="images")
    p = _image_command(commands, "interpolate",
                       "latent interpolation strips between image pairs",
                       _interpolate)
    p.add_argument("--pairs", type=int, default=4, help="strips")
    p.add_argument("--steps", type=int, default=10,
                   help="points per strip, endpoints included")
    p.add_argument("--method", default=INTERPOLATIONS[0],
                   choices=INTERPOLATIONS,
                   help="latent path (default slerp, which keeps the norm)")
    p = _image_command(commands, "traverse",
                       "one row per latent dimension, moved across values",
                       _traverse)
    p.add_argument("--dims", type=_ints, default=None,
                   help="latent dims, e.g. 0,3,5 (default: the 8 with the "
                        "most KL)")
    p.add_argument("--values", type=_floats, default="-3:3:9",
                   help="values 'a,b,c' or 'start:stop:count' (default "
                        "-3:3:9; write --values=-2:2:5 when the first is "
                        "negative)")
    p.add_argument("--index", type=int, default=None,
                   help="start from this image of --split (default: z = 0)")
    p = _image_command(
        commands, "edit",
        "add an attribute vector (e.g. smile) at rising strength", _edit)
    p.add_argument("--attribute", required=True,
                   help="attribute name, e.g. smile, glasses, beard")
    p.add_argument("--strengths", type=_floats, default="0,0.5,1,1.5,2",
                   help="multiples of the attribute vector (default "
                        "0,0.5,1,1.5,2; --strengths=-1,0,1 when the first "
                        "is negative)")
    p.add_argument("--n", type=int, default=6, help="images")


def _add_evaluate(commands) -> None:
    p = _run_command(commands, "evaluate",
                     "-ELBO, IWAE bound, KL per dim, active units, MIG; "
                     "writes a JSON report and plots", _evaluate)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--k", type=int, default=1000,
                   help="IWAE importance samples (0 skips; default 1000)")
    p.add_argument("--iwae-images", type=int, default=1000,
                   help="images of the split for the IWAE bound "
                        "(default 1000; 0 = all)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="sampler for the sample FD (default: the run's)")
    p.add_argument("--decoder", default=None, metavar="SAVEDMODEL",
                   help="also score the samples of this exported decoder's "
                        "sample signature (fd_samples_served)")
    p.add_argument("--no-quality", action="store_true",
                   help="skip the probe-based sample-quality section")


def config_from_args(args: argparse.Namespace):
    from vae_tf.config import VAEConfig

    config = VAEConfig.load(args.config) if args.config else VAEConfig()
    # --likelihood-scale is absent unless given ('calibrated' gives None).
    changes = {
        name: getattr(args, name) for name in _CONFIG_FLAGS
        if hasattr(args, name) and (
            getattr(args, name) is not None or name == "likelihood_scale"
        )
    }
    return config.replace(**changes)


def _train(args: argparse.Namespace) -> int:
    from vae_tf.distribute import worker_role
    from vae_tf.training import train

    config = config_from_args(args)
    out = args.out or os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
    if args.export:
        from vae_tf.export import validate_name
        validate_name(args.export)  # fail before training, not after
    is_chief = args.strategy != "multiworker" or worker_role()[0]
    print(f"vae-tf: training on {config.data!r}, run directory {out}",
          flush=True)
    start = time.time()
    result = train(config, out_dir=out,
                   save_every_steps=args.save_every_steps,
                   deterministic=args.deterministic, strategy=args.strategy)
    h = result.history
    where = f"Wrote {out}/" if is_chief else "Non-chief worker: wrote nothing."
    print(
        f"vae-tf: done in {time.time() - start:.0f} s. Final validation "
        f"loss {h['val_loss'][-1]:.2f}, reconstruction "
        f"{h['val_reconstruction'][-1]:.2f}, KL {h['val_kl'][-1]:.2f} "
        f"nats/image. {where}",
        flush=True,
    )
    if args.export and is_chief:
        from vae_tf.export import export_run
        exported = export_run(out, args.export, args.export_base,
                              verbose="auto")
        print(f"vae-tf: exported version {exported.version} to "
              f"{exported.encoder_dir} and {exported.decoder_dir}", flush=True)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from vae_tf.data import load_data
    from vae_tf.data.registry import square_image_shape
    from vae_tf.data.shards import write_shards

    shape = None
    if args.image_size:
        shape = square_image_shape(args.data, args.image_size)
    data = load_data(args.data, num_examples=args.num_examples,
                     seed=args.seed, data_dir=args.data_dir,
                     image_shape=shape, verbose="auto")
    manifest = write_shards(data, args.out, args.images_per_shard)
    counts = {k: v["count"] for k, v in manifest["splits"].items()}
    print(f"vae-tf prepare: wrote {args.out} ({counts}); train with "
          f"--data shards:{args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from vae_tf.export import TFLITE_FILE, export_run

    result = export_run(args.run_dir, args.name, args.base, args.keep,
                        args.sampler, verbose="auto", tflite=args.tflite,
                        precision=args.precision)
    print(f"vae-tf: exported version {result.version}:\n  {result.encoder_dir}"
          f"\n  {result.decoder_dir}")
    if args.tflite:
        print(f"  {os.path.join(result.decoder_dir, TFLITE_FILE)}")
    return 0


def _default_file(given: Optional[str], default: str) -> Optional[str]:
    """`given`, else `default` if it exists here, else None."""
    if given is None and os.path.isfile(default):
        return default
    return given


def _check_export(args: argparse.Namespace) -> int:
    from vae_tf.export import check_export

    models_config = _default_file(args.models_config, "serving/models.config")
    platform_config = _default_file(args.platform_config,
                                    "serving/platform_config.txt")
    checks = check_export(args.path, models_config, args.base, args.atol,
                          platform_config)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"vae-tf check-export: {len(failed)} check(s) failed",
              file=sys.stderr)
        return 1
    print(f"vae-tf check-export: all {len(checks)} checks passed")
    return 0


def _platform_config(args: argparse.Namespace) -> int:
    from vae_tf.export.platform_config import (platform_config_text,
                                               write_platform_config)

    cores = args.cores if args.cores is not None else os.cpu_count() or 1
    if args.out == "-":
        print(platform_config_text(cores), end="")
        return 0
    write_platform_config(args.out, cores)
    print(f"vae-tf platform-config: wrote {args.out} for {cores} cores "
          f"({cores} batch threads)")
    return 0


def _explore(args: argparse.Namespace) -> int:
    try:
        from vae_tf.explore.app import launch
        launch(args.run_dir, args.host, args.port)
    except ImportError as err:
        print(f"vae-tf explore: error: {err}", file=sys.stderr)
        return 2
    return 0


def _load_run(args: argparse.Namespace):
    from vae_tf.runs import Run

    return Run(args.run_dir, verbose="auto")


def _wrote(args: argparse.Namespace, path: str) -> int:
    print(f"vae-tf {args.command}: wrote {path}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    if args.decoder:
        out = args.out or "samples.png"
        decoder, sampler = args.decoder, args.sampler
        if sampler == "mixture":
            raise ValueError(
                "--sampler mixture needs RUN_DIR's sampler.json; an "
                "exported decoder's sample signature already holds the "
                "sampler it was exported with (omit --sampler)."
            )
    else:
        run = _load_run(args)
        out = run.path(args.out, f"samples_t{args.temperature:g}.png")
        decoder = run.models.decoder
        sampler = run.sampler(args.sampler)
    return _wrote(args, figures.sample_png(
        decoder, out, args.n, args.temperature, args.seed, sampler))


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from vae_tf.pictures import figures
    from vae_tf.evaluate import evaluate_run, summary
    from vae_tf.io_utils import atomic_write_text

    run = _load_run(args)
    report = evaluate_run(
        run, args.split, args.k, args.iwae_images or None,
        args.seed, quality=not args.no_quality,
        sampler=args.sampler, served_decoder=args.decoder,
    )
    path = run.path(args.out, f"evaluation_{args.split}.json")
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    figures.evaluation_plots(run, args.split, os.path.dirname(path) or ".")
    print(json.dumps(summary(report)))
    return _wrote(args, path)


def _reconstruct(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return _wrote(args, figures.reconstruct_png(
        _load_run(args), args.out, args.n, args.split, args.seed))


def _interpolate(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return _wrote(args, figures.interpolate_png(
        _load_run(args), args.out, args.pairs, args.steps,
        args.method, args.split, args.seed))


def _traverse(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    return _wrote(args, figures.traverse_png(
        _load_run(args), args.out, args.dims, args.values,
        args.index, args.split))


def _edit(args: argparse.Namespace) -> int:
    from vae_tf.pictures import figures

    path, effect = figures.edit_png(
        _load_run(args), args.attribute, args.out, args.strengths,
        args.n, args.split, args.seed)
    if effect is not None:
        print(figures.describe_edit(effect))
    return _wrote(args, path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if importlib.util.find_spec("tensorflow") is None:
        print(f"vae-tf {args.command}: error: TensorFlow is not installed. "
              "The vae-tf commands need the training stack: pip install "
              "'vae_tf[tf]' (the [client] extra installs only "
              "vae_tf.client, for calling a TF Serving model).",
              file=sys.stderr)
        return 2
    if args.verbose or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return _run(args)
    # Before TensorFlow loads: it reads the level once.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with hide_native_logs():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """`args.func(args)`, with errors as one line and exit status 2."""
    from vae_tf.config import ConfigError
    from vae_tf.data import DataError

    try:
        return args.func(args)
    except (ConfigError, DataError, OSError, ValueError,
            NotImplementedError) as err:
        print(f"vae-tf {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
