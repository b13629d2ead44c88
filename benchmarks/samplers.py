"""Ex-post samplers on a trained run: prior, mixture and flow side by
side, with the held-out criteria that could choose between them.

    python benchmarks/samplers.py RUN_DIR [RUN_DIR ...] [--json OUT]

For each run: the samplers are fitted to the training codes as `vae-tf
train` fits them (`fit_samplers`: the selected mixture, the default
flow), plus mixtures of every candidate size and a smaller and a longer
flow, so the criteria are compared over more than two points. For each
sampler:

- `val LL`: mean log-likelihood of the validation codes (nats; what
  chooses the mixture's size);
- `val FD`: probe Frechet distance between 1,000 decoded draws and the
  validation images (what `sampler="auto"` uses);
- `test FD`: the same against the test images, the number users see
  (`vae-tf evaluate`'s `fd_samples`, seed 0 draws).

Prints a table per run and Spearman's rank correlation of each criterion
with the test FD over the samplers (LL negated: higher LL, lower FD).
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae_tf._internal.pixels import as_float_images  # noqa: E402
from vae_tf.evaluation.metrics.frechet import frechet_distance  # noqa: E402
from vae_tf.evaluation.probe import probe_for  # noqa: E402
from vae_tf.runs import Run  # noqa: E402
from vae_tf.samplers import (PriorSampler, fit_flow, fit_mixture,  # noqa
                             select_mixture)
from vae_tf.training.run_samplers import MAX_SAMPLER_CODES  # noqa: E402


def codes(run: Run, split: str, limit: int) -> np.ndarray:
    x = run.split_images(split)[:limit]
    return run.models.encoder.predict(x, batch_size=256, verbose=0)[0]


def spearman(a, b) -> float:
    ra, rb = (np.argsort(np.argsort(v)) for v in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


def study(run_dir: str) -> dict:
    run = Run(run_dir)
    z_train = codes(run, "train", MAX_SAMPLER_CODES)
    z_val = codes(run, "validation", MAX_SAMPLER_CODES)
    probe = probe_for(run.data, verbose=True)
    real = {s: probe.features(as_float_images(getattr(run.data, s).images))
            for s in ("validation", "test")}
    samplers = {"prior": PriorSampler(z_train.shape[1])}
    selected = select_mixture(z_train, z_val, seed=run.config.seed)
    samplers[f"mixture (selected: {selected.num_components})"] = selected
    for c in (1, 5, 20, 40):
        if c != selected.num_components:
            samplers[f"mixture {c}"] = fit_mixture(z_train, c,
                                                   seed=run.config.seed)
    samplers["flow (default)"] = fit_flow(z_train, z_val,
                                          seed=run.config.seed)
    samplers["flow 4x64, 1000 steps"] = fit_flow(
        z_train, z_val, num_layers=4, hidden=64, steps=1000,
        seed=run.config.seed)
    rows = []
    for name, sampler in samplers.items():
        draws = sampler.sample(1000, seed=0)
        images = run.models.decoder.predict(draws, batch_size=256, verbose=0)
        features = probe.features(images)
        ll = (float(np.mean(sampler.log_prob(z_val)))
              if hasattr(sampler, "log_prob") else float("nan"))
        rows.append({"sampler": name, "val_ll": ll,
                     "val_fd": frechet_distance(real["validation"],
                                                features),
                     "test_fd": frechet_distance(real["test"], features),
                     "fit_seconds": getattr(sampler, "selection", {}).get(
                         "seconds")})
        print(json.dumps(rows[-1]), flush=True)
    fitted = [r for r in rows if np.isfinite(r["val_ll"])]
    return {
        "run": run_dir, "rows": rows,
        "spearman_val_fd": spearman([r["val_fd"] for r in rows],
                                    [r["test_fd"] for r in rows]),
        "spearman_val_ll": spearman([-r["val_ll"] for r in fitted],
                                    [r["test_fd"] for r in fitted]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    results = [study(r) for r in args.runs]
    for result in results:
        print(f"\n{result['run']}\n\n| sampler | val LL (nats) | val FD | "
              "test FD |\n| --- | ---: | ---: | ---: |")
        for r in result["rows"]:
            print(f"| {r['sampler']} | {r['val_ll']:.2f} | "
                  f"{r['val_fd']:.2f} | {r['test_fd']:.2f} |")
        print(f"\nrank correlation with test FD: val FD "
              f"{result['spearman_val_fd']:.2f}, val LL (fitted samplers) "
              f"{result['spearman_val_ll']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
