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
    explore.add_argument("--auth", metavar="USER:PASSWORD", default=None,
                         help="ask for this login (Gradio's); without it "
                              "a --host other than 127.0.0.1 is warned of")
    explore.add_argument("--auth-file", metavar="FILE", default=None,
                         help="logins, one USER:PASSWORD per line (# "
                              "comments)")
    explore.set_defaults(func=_explore)


def _explore(args: argparse.Namespace) -> int:
    from vae_tf.explore.access import credentials, exposure_warning

    users = credentials(args.auth, args.auth_file)  # bad ones: exit 2
    warning = exposure_warning(args.host, users, args.port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    from vae_tf.explore.extra import gradio

    try:
        gradio()  # before the run and TensorFlow load
    except ImportError as err:
        print(f"vae-tf explore: error: {err}", file=sys.stderr)
        return 2
    from vae_tf.explore.app import launch

    launch(options.run_dir(args), args.host, args.port, auth=users)
    return 0
