"""`vae-tf export`, `check-export` and `platform-config`: the SavedModels
for TF Serving, their checks, and the server's platform config."""

from __future__ import annotations

import argparse
import os
import sys

from vae_tf.models.precision import EXPORT_PRECISIONS
from vae_tf.samplers import SAMPLERS


def add_export(commands) -> None:
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
    export.add_argument("--precision", choices=EXPORT_PRECISIONS,
                        default="float32",
                        help="what the exported graphs compute in (inputs "
                             "and outputs are float32 either way; bfloat16 "
                             "is faster at large batches on CPUs with "
                             "AVX512_BF16)")
    export.set_defaults(func=_export)


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


def add_check_export(commands) -> None:
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


def _check_export(args: argparse.Namespace) -> int:
    from vae_tf.export.check import check_export, serving_files

    models_config, platform_config = serving_files(args.models_config,
                                                   args.platform_config)
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


def add_platform_config(commands) -> None:
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
