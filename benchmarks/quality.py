"""Generation-quality benchmark: candidate defaults at equal wall time.

Trains, one after another on `faces` (10,000 images, seed 0): the old
default (fixed-scale Gaussian, sigma = 0.05, `conv`, latent 16, batch 32,
12 epochs, prior samples) and each candidate. The old default's training
time is the budget: every candidate gets as many epochs as fit in it (its
seconds per epoch measured first on 1,280 images). Each trained model is
scored by `vae_tf.evaluate.evaluate_run` on the test split (1,000 faces):
probe Frechet distances of reconstructions, prior samples and mixture
samples, attribute recall of reconstructions, -ELBO; the table is printed
and written with every model's sample and reconstruction grids to --out.

    python benchmarks/quality.py --out /tmp/quality          # ~35 min
    python benchmarks/quality.py --candidates old,default     # a subset
"""

import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae_tf import VAEConfig, load_data, train  # noqa: E402
from vae_tf.evaluate import evaluate_run  # noqa: E402

# Each candidate is a set of VAEConfig fields; "old" is the previous
# default, trained for its own 12 epochs (which sets the time budget).
CANDIDATES = {
    "old": dict(likelihood_scale=0.05, sampler="prior", epochs=12),
    "calibrated": dict(),
    "calibrated_cosine": dict(lr_schedule="cosine"),
    "resconv32": dict(architecture="resconv", latent_dim=32,
                      lr_schedule="cosine"),
    "default": dict(),  # whatever VAEConfig() is now
}


def seconds_per_epoch(config: VAEConfig, data) -> float:
    """Training seconds per full epoch, from a short run on 1,280 images."""
    from vae_tf import build_vae, compile_vae, make_dataset

    models = build_vae(config.resolve(data.image_shape))
    compile_vae(models.vae, config.resolve(data.image_shape))
    ds = make_dataset(data.train.images[:1280], config.batch_size)
    models.vae.fit(ds, epochs=1, verbose=0)  # tracing
    start = time.perf_counter()
    models.vae.fit(ds, epochs=2, verbose=0)
    per_image = (time.perf_counter() - start) / 2 / 1280
    return per_image * len(data.train)


def run_candidate(name, fields, data, budget, out):
    config = VAEConfig(**fields)
    if budget is not None and "epochs" not in fields:
        per_epoch = seconds_per_epoch(config, data)
        config = config.replace(epochs=max(1, int(round(budget / per_epoch))))
        print(f"{name}: {per_epoch:.1f} s/epoch -> {config.epochs} epochs",
              flush=True)
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
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per candidate (default: old's time)")
    args = parser.parse_args(argv)
    names = [n for n in args.candidates.split(",") if n]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates {unknown}; known: {list(CANDIDATES)}")
    os.makedirs(args.out, exist_ok=True)
    data = load_data("faces", num_examples=10000, seed=0)
    rows, budget = [], args.budget
    for name in names:
        row = run_candidate(name, CANDIDATES[name], data, budget, args.out)
        if name == "old" and budget is None:
            budget = row["seconds"]
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
