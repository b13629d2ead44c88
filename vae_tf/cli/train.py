"""`vae-tf train` and `vae-tf prepare`: data in, a run directory or
shards out."""

from __future__ import annotations

import argparse
import time

from vae_tf.cli import options
from vae_tf.training.distribute import STRATEGIES


def add_train(commands) -> None:
    train = commands.add_parser(
        "train",
        help="train a VAE and write a run directory",
        description=(
            "Train a VAE with model.fit and write config.json, model.keras, "
            "history.csv, TensorBoard logs/, reconstructions.png and "
            "samples.png to the run directory. Flags override --config."
        ),
    )
    options.add_config_flags(train)
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
        "--early-stopping", type=int, default=None, metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower validation loss "
             "and keep the best epoch's weights (recorded in best.json; "
             "best.keras, the best model, is kept beside model.keras "
             "either way)",
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
    train.add_argument(
        "--restart", action="store_true",
        help="start an interrupted run in --out over: deletes its backup, "
             "history and logs (otherwise it resumes from its backup)",
    )
    train.set_defaults(func=_train)


def _print_best(out: str) -> None:
    """The epoch early stopping kept (`best.json`)."""
    import json

    from vae_tf.runs import RunPaths, record_path

    with open(record_path(RunPaths(out).best_model), encoding="utf-8") as f:
        best = json.load(f)
    stopped = best["stopped_after_epoch"]
    print(f"vae-tf: early stopping kept epoch {best['best_epoch']} "
          f"(validation loss {best['best_val_loss']:.2f})"
          + (f", stopped after epoch {stopped}" if stopped else
             ", ran every epoch"), flush=True)


def _train(args: argparse.Namespace) -> int:
    # The flags and data name first: a bad one is refused before
    # TensorFlow loads (~5 s).
    from vae_tf.data.registry import check_data_name

    config = options.config_from_args(args)
    check_data_name(config.data)
    from vae_tf.runs import default_run_dir
    from vae_tf.training.distribute import worker_role
    from vae_tf.training.trainer import train

    out = args.out or default_run_dir()
    if args.export:
        from vae_tf.export import validate_name
        validate_name(args.export)  # fail before training, not after
    is_chief = args.strategy != "multiworker" or worker_role()[0]
    print(f"vae-tf: training on {config.data!r}, run directory {out}",
          flush=True)
    start = time.time()
    result = train(config, out_dir=out,
                   save_every_steps=args.save_every_steps,
                   deterministic=args.deterministic, strategy=args.strategy,
                   early_stopping=args.early_stopping, restart=args.restart)
    where = f"Wrote {out}/" if is_chief else "Non-chief worker: wrote nothing."
    print(
        f"vae-tf: done in {time.time() - start:.0f} s. {result.summary()} "
        f"{where}",
        flush=True,
    )
    if args.early_stopping and is_chief:
        _print_best(out)
    if args.export and is_chief:
        from vae_tf.export import export_run
        exported = export_run(out, args.export, args.export_base,
                              verbose="auto")
        print(f"vae-tf: exported version {exported.version} to "
              f"{exported.encoder_dir} and {exported.decoder_dir}", flush=True)
    return 0


def add_prepare(commands) -> None:
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
                         help="faces, shapes, fashion_mnist, folder:PATH "
                              "(streamed in chunks; rerun to resume), "
                              "npz:PATH")
    prepare.add_argument("--out", required=True, metavar="DIR",
                         help="empty output folder")
    prepare.add_argument("--images-per-shard", type=int, default=4096)
    prepare.add_argument("--num-examples", type=int, default=10000,
                         help="training images for faces/shapes")
    options.add_image_flags(prepare)
    prepare.add_argument("--seed", type=int, default=0,
                         help="seeds procedural data and the split of a "
                              "folder (use the same as in training)")
    prepare.add_argument("--data-dir", default=None,
                         help="extra folder for fashion_mnist")
    prepare.set_defaults(func=_prepare)


def _prepare(args: argparse.Namespace) -> int:
    kind, _, path = args.data.partition(":")
    shape = options.input_shape(args, args.data)
    if kind == "folder" and path:
        # Streamed in chunks (flat memory) and resumable.
        from vae_tf.data.prepare import prepare_folder

        manifest = prepare_folder(
            path, args.out, shape or (64, 64, 3), args.image_fit or "crop",
            args.seed, args.images_per_shard, bool(args.strict_images))
    else:
        from vae_tf.data import load_data
        from vae_tf.data.shards import write_shards

        data = load_data(args.data, num_examples=args.num_examples,
                         seed=args.seed, data_dir=args.data_dir,
                         image_shape=shape, verbose="auto")
        manifest = write_shards(data, args.out, args.images_per_shard)
    counts = {k: v["count"] for k, v in manifest["splits"].items()}
    print(f"vae-tf prepare: wrote {args.out} ({counts}); train with "
          f"--data shards:{args.out}")
    return 0
