"""`vae-tf explore`: the latent explorer page (the [explore] extra)."""

from __future__ import annotations

import argparse
import sys

from vae_tf.cli import options


def add_explore(commands) -> None:
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
    options.add_run_arguments(explore)
    explore.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1; "
                              "0.0.0.0 serves other machines)")
    explore.add_argument("--port", type=int, default=7860,
                         help="port (default 7860)")
    explore.set_defaults(func=_explore)


def _explore(args: argparse.Namespace) -> int:
    try:
        from vae_tf.explore.app import launch
        launch(options.run_dir(args), args.host, args.port)
    except ImportError as err:
        print(f"vae-tf explore: error: {err}", file=sys.stderr)
        return 2
    return 0
