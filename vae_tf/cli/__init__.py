"""`vae-tf`: the command line. `main` parses the flags (each command
group's module adds its own; `options` holds the shared ones), checks
that TensorFlow is installed, hides its C++ log lines, and runs the
command's handler, turning the package's errors into one line and exit
status 2. The handlers map flags onto the library: no logic of their own.

- `train`: train, prepare;
- `export`: export, check-export, platform-config;
- `pictures`: sample, reconstruct, interpolate, traverse, edit;
- `evaluate`: evaluate;
- `explore`: explore.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Optional, Sequence

from vae_tf._internal.native_logs import hide_native_logs
from vae_tf.cli import evaluate, explore, export, pictures, train

# Subcommands in the order `vae-tf --help` lists them.
_GROUPS = (
    (train, "add_train"), (export, "add_export"),
    (export, "add_check_export"), (export, "add_platform_config"),
    (pictures, "add_sample"), (pictures, "add_image_commands"),
    (evaluate, "add_evaluate"), (train, "add_prepare"),
    (explore, "add_explore"),
)


def build_parser() -> argparse.ArgumentParser:
    """The `vae-tf` parser; each subcommand sets `func`, its handler."""
    parser = argparse.ArgumentParser(
        prog="vae-tf",
        description="Variational autoencoders on Keras 3 / TensorFlow.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for group, add in _GROUPS:
        getattr(group, add)(commands)
    for command in commands.choices.values():
        command.add_argument(
            "--verbose", action="store_true",
            help="show TensorFlow's C++ log lines (hidden by default, "
                 "unless TF_CPP_MIN_LOG_LEVEL is set)")
    return parser


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
