"""`vae-tf evaluate`: the JSON report and its plots."""

from __future__ import annotations

import argparse
import os

from vae_tf.cli import options
from vae_tf.data import SPLITS
from vae_tf.samplers import SAMPLERS


def add_evaluate(commands) -> None:
    p = options.run_command(commands, "evaluate",
                            "-ELBO, IWAE bound, KL per dim, active units, "
                            "MIG, DCI, SAP; "
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


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from vae_tf.pictures import figures
    from vae_tf.evaluation.report import evaluate_run, summary
    from vae_tf._internal.io_utils import atomic_write_text

    run = options.load_run(args)
    report = evaluate_run(
        run, args.split, args.k, args.iwae_images or None,
        args.seed, quality=not args.no_quality,
        sampler=args.sampler, served_decoder=args.decoder,
    )
    path = args.out or run.outputs.evaluation(args.split)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    figures.evaluation_plots(run, args.split, os.path.dirname(path) or ".")
    print(json.dumps(summary(report)))
    for section, why in report.get("skipped", {}).items():
        print(f"vae-tf evaluate: skipped {section}: {why}")
    return options.wrote(args, path)
