"""Generation-quality benchmark: candidate defaults at equal wall time.

Trains, one after another on `faces` (10,000 images, seed 0): the old
default (fixed-scale Gaussian, sigma = 0.05, `conv`, latent 16, batch 32,
12 epochs, prior samples) and each candidate. The old default's 12 epochs
are the budget: every candidate gets the epochs that cost the same time,
from the ratio of its seconds per epoch to the old default's, both measured
one after the other on 1,280 images (fastest of 3). Each trained model is
scored by `vae_tf.evaluation.report.evaluate_run` on the test split (1,000
faces):
probe Frechet distances of reconstructions, prior samples and mixture
samples, attribute recall of reconstructions, -ELBO; the table is printed
and written with every model's sample and reconstruction grids to --out.

    python benchmarks/quality.py --out /tmp/quality          # ~40 min
    python benchmarks/quality.py --candidates old,default     # a subset

`--budget-seconds S` replaces the old default's budget by S seconds of
training: each candidate gets the epochs that fit in S by its own seconds
per epoch (measured the same way, just before it trains). The recipe of
the default `vae-tf train` was chosen this way (benchmarks/README.md,
"The 5-minute recipe"):

    python benchmarks/quality.py --budget-seconds 240 --candidates \
        previous10,previous,onecycle_3e-3,onecycle_3e-3_b64,...
"""

import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from vae_tf import VAEConfig, load_data, train  # noqa: E402
from vae_tf.evaluation.report import evaluate_run  # noqa: E402

# Each candidate is a set of VAEConfig fields; "old" is the previous
# default, trained for its own 12 epochs (which sets the time budget).
CANDIDATES = {
    "old": dict(likelihood_scale=0.05, sampler="prior", epochs=12,
                widths=(16, 32, 64, 64)),
    "default": dict(),  # whatever VAEConfig() is now
    "default10": dict(epochs=10),  # ... at 10 epochs
    "default11": dict(epochs=11),
    "default12": dict(epochs=12),
    # The default before the 5-minute recipe: constant 1e-3, 10 epochs.
    "previous10": dict(epochs=10, lr_schedule="constant", learning_rate=1e-3),
    "previous": dict(lr_schedule="constant", learning_rate=1e-3),
    "conv16": dict(widths=(16, 32, 64, 64)),
    "conv16_lr2e-3": dict(widths=(16, 32, 64, 64), learning_rate=2e-3),
    "conv16_z32": dict(widths=(16, 32, 64, 64), latent_dim=32,
                       dense_units=512),
    "conv32": dict(widths=(32, 64, 64, 64)),
    "conv32_lr2e-3": dict(widths=(32, 64, 64, 64), learning_rate=2e-3),
    "cosine": dict(lr_schedule="cosine"),
    "laplace": dict(likelihood="laplace"),
    "resconv32": dict(architecture="resconv", latent_dim=32,
                      lr_schedule="cosine"),
    # Levers for the 5-minute default (--budget-seconds).
    "cosine_2e-3": dict(lr_schedule="cosine", learning_rate=2e-3),
    "onecycle_3e-3": dict(lr_schedule="one_cycle", learning_rate=3e-3),
    "onecycle_3e-3_b64": dict(lr_schedule="one_cycle", learning_rate=3e-3,
                              batch_size=64),
    "onecycle_5e-3_b64": dict(lr_schedule="one_cycle", learning_rate=5e-3,
                              batch_size=64),
    "onecycle_3e-3_freebits": dict(lr_schedule="one_cycle",
                                   learning_rate=3e-3, free_bits=0.05),
    "onecycle_3e-3_ffl100": dict(lr_schedule="one_cycle",
                                 learning_rate=3e-3, frequency_weight=100.0),
    "onecycle_3e-3_ffl1000": dict(lr_schedule="one_cycle",
                                  learning_rate=3e-3, frequency_weight=1000.0),
}


def seconds_per_epoch(config: VAEConfig, data, repeats: int = 3) -> float:
    """Training seconds per full epoch: the fastest of `repeats` one-epoch
    fits on 1,280 images (after one for tracing), scaled to the split."""
    from vae_tf import build_vae, compile_vae, make_dataset

    config = config.resolve(data.image_shape)
    models = build_vae(config)
    compile_vae(models.vae, config)
    ds = make_dataset(data.train.images[:1280], config.batch_size)
    models.vae.fit(ds, epochs=1, verbose=0)  # tracing
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        models.vae.fit(ds, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return min(times) / 1280 * len(data.train)


def equal_time_epochs(fields, data, budget_epochs: int) -> int:
    """Epochs of a candidate that cost what `budget_epochs` of the old
    default cost: the ratio of their seconds per epoch, measured one right
    after the other (absolute times drift on these machines)."""
    old = seconds_per_epoch(VAEConfig(**CANDIDATES["old"]), data)
    new = seconds_per_epoch(VAEConfig(**fields), data)
    epochs = max(1, int(round(budget_epochs * old / new)))
    print(f"  {new:.1f} s/epoch vs old {old:.1f} -> {epochs} epochs",
          flush=True)
    return epochs


def budget_epochs(fields, data, seconds: float) -> int:
    """Epochs of a candidate that fit in `seconds` of training."""
    per_epoch = seconds_per_epoch(VAEConfig(**fields), data)
    epochs = max(1, int(seconds // per_epoch))
    print(f"  {per_epoch:.1f} s/epoch -> {epochs} epochs in {seconds:.0f} s",
          flush=True)
    return epochs


def run_candidate(name, fields, data, out, equal_time=True,
                  budget_seconds=None):
    config = VAEConfig(**fields)
    if budget_seconds is not None and "epochs" not in fields:
        config = config.replace(epochs=budget_epochs(fields, data,
                                                     budget_seconds))
    elif equal_time and "epochs" not in fields:
        config = config.replace(epochs=equal_time_epochs(
            fields, data, CANDIDATES["old"]["epochs"]))
    print(f"{name}: training {config.epochs} epochs", flush=True)
    run_dir = os.path.join(out, name)
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    train(config, out_dir=run_dir, data=data, verbose=0)
    seconds = time.perf_counter() - start
    report = evaluate_run(run_dir, k=0, data=data, verbose=False,
                          sampler="prior")
    mixture = evaluate_run(run_dir, k=0, data=data, verbose=False,
                           sampler="mixture")["quality"]
    q = report["quality"]
    attrs = q["attributes"]
    row = {
        "name": name, "epochs": config.epochs, "seconds": seconds,
        "neg_elbo": report["neg_elbo"], "kl": report["kl"],
        "fd_recon": q["fd_reconstructions"], "fd_prior": q["fd_samples"],
        "fd_mixture": mixture["fd_samples"], "fd_floor": q["fd_floor"],
        "recall": {k: attrs[k]["reconstructions"]["recall"]
                   for k in ("glasses", "beard", "hair_color")},
        "z_std": q["aggregate_posterior"]["z_mean_std_mean"],
        "components": mixture.get("num_components"),
    }
    for png in ("samples.png", "reconstructions.png"):
        shutil.copy(os.path.join(run_dir, png),
                    os.path.join(out, f"{name}_{png}"))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="quality_runs")
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help="comma-separated names; 'old' sets the budget")
    parser.add_argument("--no-equal-time", action="store_true",
                        help="train every candidate for its config's epochs")
    parser.add_argument("--budget-seconds", type=float, default=None,
                        help="training seconds per candidate (instead of "
                             "the old default's 12 epochs)")
    args = parser.parse_args(argv)
    names = [n for n in args.candidates.split(",") if n]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates {unknown}; known: {list(CANDIDATES)}")
    os.makedirs(args.out, exist_ok=True)
    data = load_data("faces", num_examples=10000, seed=0)
    rows = []
    for name in names:
        row = run_candidate(name, CANDIDATES[name], data, args.out,
                            equal_time=not args.no_equal_time,
                            budget_seconds=args.budget_seconds)
        rows.append(row)
        print(json.dumps(row), flush=True)
    header = ("| model | epochs | train s | -ELBO | KL | FD recon | FD prior "
              "samples | FD mixture samples | FD floor | recall glasses / "
              "beard / hair | z_mean std |")
    print("\n" + header + "\n|" + " --- |" * 11)
    for r in rows:
        rec = r["recall"]
        print(f"| {r['name']} | {r['epochs']} | {r['seconds']:.0f} | "
              f"{r['neg_elbo']:.0f} | {r['kl']:.1f} | {r['fd_recon']:.2f} | "
              f"{r['fd_prior']:.2f} | {r['fd_mixture']:.2f} | "
              f"{r['fd_floor']:.2f} | {rec['glasses']:.3f} / "
              f"{rec['beard']:.3f} / {rec['hair_color']:.3f} | "
              f"{r['z_std']:.2f} |")
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
