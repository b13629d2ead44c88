"""`vae-tf`: the command line. `main` parses the flags (each command
group's module adds its own; `options` holds the shared ones), checks
that TensorFlow is installed, hides its C++ log lines, and runs the
command's handler: the package's errors (bad flags, configs, data,
files) become one line and exit status 2; anything else is one line
naming the exception, a hint to rerun with `--verbose` for the
traceback, and exit status 1. `--verbose` (before or after the command)
shows TensorFlow's C++ log lines and every error's traceback. The
handlers map flags onto the library: no logic of their own.

- `train`: train, prepare;
- `export`: export, check-export, platform-config;
- `pictures`: sample, reconstruct, interpolate, traverse, edit;
- `evaluate`: evaluate;
- `explore`: explore;
- `fields`: config (every VAEConfig field).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Optional, Sequence

from vae_tf._internal.native_logs import hide_native_logs
from vae_tf.cli import evaluate, explore, export, fields, pictures, train

# Subcommands in the order `vae-tf --help` lists them.
_GROUPS = (
    (train, "add_train"), (export, "add_export"),
    (export, "add_check_export"), (export, "add_platform_config"),
    (pictures, "add_sample"), (pictures, "add_image_commands"),
    (evaluate, "add_evaluate"), (train, "add_prepare"),
    (explore, "add_explore"), (fields, "add_config"),
)


def build_parser() -> argparse.ArgumentParser:
    """The `vae-tf` parser; each subcommand sets `func`, its handler."""
    from vae_tf import __version__

    parser = argparse.ArgumentParser(
        prog="vae-tf",
        description="Variational autoencoders on Keras 3 / TensorFlow.",
    )
    parser.add_argument("--version", action="version",
                        version=f"vae-tf {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for group, add in _GROUPS:
        getattr(group, add)(commands)
    for command in commands.choices.values():
        # SUPPRESS: absent after the command, the flag before it counts.
        command.add_argument("--verbose", action="store_true",
                             default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


VERBOSE_HELP = ("show TensorFlow's C++ log lines (hidden by default, unless "
                "TF_CPP_MIN_LOG_LEVEL is set) and the traceback of an error;"
                " before or after the command")


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
    """`args.func(args)`, its error as one line (`_one_line`);
    `--verbose` prints the traceback first."""
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        _traceback(args)
        message, status = _one_line(err, args.verbose)
        print(f"vae-tf {args.command}: {message}", file=sys.stderr)
        return status


def _one_line(err: Exception, verbose: bool) -> tuple[str, int]:
    """What the user is told of `err`, and the exit status: a full disk
    1, the package's errors (bad input) 2, anything else (a bug) 1 with a
    `--verbose` hint."""
    from vae_tf.config import ConfigError
    from vae_tf.data import DataError
    from vae_tf._internal.disk_full import DiskFullError, full_disk_errno

    if isinstance(err, DiskFullError):  # names the file
        return f"error: {err}", 1
    if full_disk_errno(err) is not None:  # a writer that did not name it
        return f"error: the disk is full: {err}", 1
    if isinstance(err, (ConfigError, DataError, OSError, ValueError,
                        NotImplementedError)):
        return f"error: {err}", 2
    hint = "" if verbose else (
        " (rerun with --verbose for the traceback, and please report it)")
    return f"internal error: {type(err).__name__}: {err}{hint}", 1


def _traceback(args: argparse.Namespace) -> None:
    if args.verbose:
        import traceback

        traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
