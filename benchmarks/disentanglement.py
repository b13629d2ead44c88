"""beta-VAE against beta-TCVAE at equal budget, several seeds each:
MIG, DCI and SAP beside -ELBO and reconstruction FD.

    python benchmarks/disentanglement.py [--data shapes faces]
        [--settings vae:1 vae:4 tcvae:4 tcvae:8] [--seeds 0 1 2]
        [--epochs 5] [--runs DIR] [--json OUT] [--pictures DIR]

Every run is the default `vae-tf train` config of its data set with only
the objective, its weight, the seed and the epochs changed (equal budget:
the same epochs, batch size and schedule for every setting; the sampler is
`prior`, since sample quality is not compared here), except that `shapes`
uses the Bernoulli likelihood, as dSprites studies do: under the default
calibrated Gaussian its mostly black images collapse the posterior (KL
0.0008 nats after 6 epochs, MIG 0.007, measured). A run directory that
already holds a model is reused, so an interrupted benchmark continues.
Each run is scored by `evaluate_run` on the test split (no IWAE):
`mig`, `dci` (disentanglement / completeness / informativeness), `sap`,
`neg_elbo` and `quality.fd_reconstructions`. Prints a table of mean +- std
over seeds per setting, and writes, for the run with the highest MIG of
each objective and data set, a traversal picture whose rows are labelled
by the factor each latent dimension captures most (its normalised mutual
information with that factor).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae_tf import VAEConfig, train  # noqa: E402
from vae_tf.evaluation.metrics.utils import (  # noqa: E402
    discretize, entropy, mutual_information_matrix)
from vae_tf.evaluation.report import GROUND_TRUTH, evaluate_run  # noqa
from vae_tf.generate import traverse  # noqa: E402
from vae_tf.runs import Run  # noqa: E402

METRICS = ("mig", "dci_d", "dci_c", "dci_i", "sap", "neg_elbo", "fd_recon")


def parse_setting(text: str) -> tuple[str, float]:
    """`vae:4` -> ("vae", 4.0) (beta); `tcvae:6` -> ("tcvae", 6.0)."""
    kind, _, weight = text.partition(":")
    if kind not in ("vae", "tcvae") or not weight:
        raise SystemExit(f"bad setting {text!r}: use vae:BETA or tcvae:W")
    return kind, float(weight)


def config_for(data: str, kind: str, weight: float, seed: int,
               epochs: int) -> VAEConfig:
    config = VAEConfig(data=data, seed=seed, epochs=epochs, sampler="prior")
    if data == "shapes":
        config = config.replace(likelihood="bernoulli")
    if kind == "vae":
        return config.replace(beta=weight)
    return config.replace(objective="beta-tcvae", tc_weight=weight)


def run_one(folder: str, config: VAEConfig) -> dict:
    t0 = time.time()
    if not os.path.isfile(os.path.join(folder, "model.keras")):
        train(config, out_dir=folder, verbose=0)
    trained = time.time() - t0
    report = evaluate_run(folder, k=0, verbose=False)
    row = {
        "mig": report["mig"], "dci_d": report["dci"]["disentanglement"],
        "dci_c": report["dci"]["completeness"],
        "dci_i": report["dci"]["informativeness"], "sap": report["sap"],
        "neg_elbo": report["neg_elbo"],
        "fd_recon": report["quality"]["fd_reconstructions"],
        "mig_per_factor": report["mig_per_factor"],
        "train_seconds": trained, "total_seconds": time.time() - t0,
    }
    return row


def dimension_labels(run: Run, names) -> list[str]:
    """`z3: x 0.62` per latent dimension: the factor it shares most mutual
    information with, normalised by that factor's entropy."""
    x = run.split_images("test")
    z = run.models.encoder.predict(x, batch_size=256, verbose=0)[0]
    attrs = run.data.test.attributes
    factors = np.stack([attrs[n] for n in names], axis=1)
    f = discretize(factors.T)
    m = mutual_information_matrix(discretize(z.T), f)
    h = np.array([entropy(row) for row in f])
    normalised = m / np.maximum(h, 1e-12)[None]
    labels = []
    for d, row in enumerate(normalised):
        j = int(np.argmax(row))
        labels.append(f"z{d}: {names[j]} {row[j]:.2f}")
    return labels, z.std(axis=0)


def traversal_picture(folder: str, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Run(folder)
    names = GROUND_TRUTH[run.data.name]
    labels, spread = dimension_labels(run, names)
    image = run.split_images("test")[0]
    z = run.models.encoder.predict(image[None], verbose=0)[0][0]
    values = np.linspace(-2.5, 2.5, 9)
    dims = list(range(len(z)))
    # each dimension moved over +-2.5 of its own spread, from the image's code
    grid = np.stack([
        traverse(run.models.decoder, z, [d], z[d] + values * spread[d])[0]
        for d in dims
    ])
    rows, cols = grid.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9 + 1.6,
                                                  rows * 0.9 + 0.4))
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            img = grid[r, c]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img,
                      cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(labels[r], rotation=0, ha="right",
                              va="center", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summarise(results: dict) -> str:
    lines = ["| data | setting | seeds | " + " | ".join(METRICS) + " |",
             "| --- | --- | --- |" + " --- |" * len(METRICS)]
    for (data, setting), rows in results.items():
        cells = []
        for key in METRICS:
            values = np.array([r[key] for r in rows], float)
            digits = 1 if key == "neg_elbo" else 3
            cells.append(f"{values.mean():.{digits}f} +- "
                         f"{values.std():.{digits}f}")
        lines.append(f"| {data} | {setting} | {len(rows)} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["shapes", "faces"])
    parser.add_argument("--settings", nargs="+",
                        default=["vae:1", "vae:4", "tcvae:4", "tcvae:8"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--runs", default="runs/disentanglement")
    parser.add_argument("--json", default=None)
    parser.add_argument("--pictures", default=None)
    args = parser.parse_args()
    settings = [parse_setting(s) for s in args.settings]
    results: dict = {}
    for seed in args.seeds:
        for data in args.data:
            for (kind, weight), text in zip(settings, args.settings):
                folder = os.path.join(args.runs, f"{data}-{kind}{weight:g}"
                                      f"-s{seed}")
                row = run_one(folder, config_for(data, kind, weight, seed,
                                                 args.epochs))
                row["run"] = folder
                results.setdefault((data, text), []).append(row)
                print(f"{folder}: " + ", ".join(
                    f"{k} {row[k]:.3f}" for k in METRICS)
                    + f" ({row['total_seconds']:.0f} s)", flush=True)
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump({f"{d}|{s}": r for (d, s), r in
                                   results.items()}, f, indent=1)
    print(summarise(results))
    if args.pictures:
        os.makedirs(args.pictures, exist_ok=True)
        for data in args.data:
            for kind in ("vae", "tcvae"):
                rows = [r for (d, s), rs in results.items() for r in rs
                        if d == data and s.startswith(kind + ":")]
                if not rows:
                    continue
                best = max(rows, key=lambda r: r["mig"])
                path = os.path.join(args.pictures,
                                    f"traversal_{data}_{kind}.png")
                traversal_picture(best["run"], path,
                                  f"{os.path.basename(best['run'])}: "
                                  f"MIG {best['mig']:.3f}")
                print(f"wrote {path}")


if __name__ == "__main__":
    main()
