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


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from vae_tf.config import ConfigError
    from vae_tf.data import DataError

    try:
        return {"train": _train}[args.command](args)
    except (ConfigError, DataError, FileNotFoundError, ValueError) as err:
        print(f"vae-tf {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
