"""`vae-tf` command line: parses flags into a `VAEConfig`, then calls the
library. No logic of its own beyond that mapping and error reporting."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional, Sequence

from vae_tf.config import BETA_SCHEDULES, LIKELIHOODS, ARCHITECTURES

# Flags that map one-to-one onto VAEConfig fields.
_CONFIG_FLAGS = (
    "data", "data_dir", "epochs", "latent_dim", "beta", "likelihood",
    "architecture", "beta_schedule", "batch_size", "learning_rate",
    "num_examples", "seed",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae-tf",
        description="Variational autoencoders on Keras 3 / TensorFlow.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train",
        help="train a VAE and write a run directory",
        description=(
            "Train a VAE with model.fit and write config.json, model.keras, "
            "history.csv, TensorBoard logs/, reconstructions.png and "
            "samples.png to the run directory. Flags override --config."
        ),
    )
    train.add_argument(
        "--data", default=None,
        help="faces (default, procedural), shapes, fashion_mnist, "
             "folder:PATH or npz:PATH",
    )
    train.add_argument(
        "--data-dir", default=None,
        help="extra folder searched first for fashion_mnist idx files",
    )
    train.add_argument(
        "--config", default=None, metavar="FILE.json",
        help="start from this config (e.g. a run's config.json)",
    )
    train.add_argument("--epochs", type=int, help="training epochs")
    train.add_argument("--latent-dim", type=int, help="latent dimensions")
    train.add_argument(
        "--beta", type=float, help="KL weight (1 = VAE, >1 = beta-VAE)"
    )
    train.add_argument(
        "--likelihood", choices=LIKELIHOODS, help="reconstruction likelihood"
    )
    train.add_argument(
        "--architecture", choices=ARCHITECTURES, help="network type"
    )
    train.add_argument(
        "--beta-schedule", choices=BETA_SCHEDULES, help="beta schedule"
    )
    train.add_argument("--batch-size", type=int, help="images per step")
    train.add_argument("--learning-rate", type=float, help="Adam step size")
    train.add_argument(
        "--num-examples", type=int,
        help="training images generated for faces/shapes",
    )
    train.add_argument("--seed", type=int, help="random seed")
    train.add_argument(
        "--out", default=None, metavar="DIR",
        help="run directory (default runs/<date-time>)",
    )

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

    check = commands.add_parser(
        "check-export",
        help="verify an exported SavedModel (exit 1 with the reason if bad)",
        description=(
            "Check a model base path (newest version) or version folder: "
            "saved_model_cli show/run, a fresh-process tf.saved_model.load "
            "and a TF1 session load against the Keras outputs, the warmup "
            "requests, and a TF Serving models.config."
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
        "--base", default=None,
        help="local folder mounted at /models (default: parent of the "
             "model base path)",
    )
    check.add_argument("--atol", type=float, default=1e-5,
                       help="tolerance vs the Keras outputs (default 1e-5)")
    return parser


def config_from_args(args: argparse.Namespace):
    from vae_tf.config import VAEConfig

    config = VAEConfig.load(args.config) if args.config else VAEConfig()
    changes = {
        name: getattr(args, name) for name in _CONFIG_FLAGS
        if getattr(args, name) is not None
    }
    if changes.get("data") and changes["data"] != config.data:
        changes.setdefault("input_shape", None)  # take it from the new data
    return config.replace(**changes)


def _train(args: argparse.Namespace) -> int:
    from vae_tf.training import train

    config = config_from_args(args)
    out = args.out or os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
    print(f"vae-tf: training on {config.data!r}, run directory {out}",
          flush=True)
    start = time.time()
    result = train(config, out_dir=out)
    h = result.history
    print(
        f"vae-tf: done in {time.time() - start:.0f} s. Final validation "
        f"loss {h['val_loss'][-1]:.2f}, reconstruction "
        f"{h['val_reconstruction'][-1]:.2f}, KL {h['val_kl'][-1]:.2f} "
        f"nats/image. Wrote {out}/",
        flush=True,
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from vae_tf.export import export_run

    result = export_run(args.run_dir, args.name, args.base, args.keep)
    print(f"vae-tf: exported version {result.version}:\n  {result.encoder_dir}"
          f"\n  {result.decoder_dir}")
    return 0


def _check_export(args: argparse.Namespace) -> int:
    from vae_tf.export_check import check_export

    models_config = args.models_config
    if models_config is None and os.path.isfile("serving/models.config"):
        models_config = "serving/models.config"
    checks = check_export(args.path, models_config, args.base, args.atol)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"vae-tf check-export: {len(failed)} check(s) failed",
              file=sys.stderr)
        return 1
    print(f"vae-tf check-export: all {len(checks)} checks passed")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from vae_tf.config import ConfigError
    from vae_tf.data import DataError

    try:
        return {
            "train": _train, "export": _export, "check-export": _check_export,
        }[args.command](args)
    except (ConfigError, DataError, OSError, ValueError) as err:
        print(f"vae-tf {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
