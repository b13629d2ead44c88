"""Sample FD of a trained run's ex-post mixture, per component count.

`vae_tf.samplers.select_mixture` picks the component count from
`COMPONENT_CANDIDATES` by validation log-likelihood. This refits the
mixture of an existing run (no retraining) with one count at a time,
scores each with `evaluate_run` (in a copy of the run directory) and
prints the validation log-likelihood next to the samples' Frechet distance,
to check whether the likelihood is a good proxy for sample quality.

    python benchmarks/mixture_components.py runs/faces --counts 40,80,160,320
"""

import argparse
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from vae_tf import VAEConfig, load_data  # noqa: E402
from vae_tf.data.pipeline import as_float_images  # noqa: E402
from vae_tf.evaluation.report import evaluate_run  # noqa: E402
from vae_tf.models import split_vae  # noqa: E402
from vae_tf.samplers import save_sampler, select_mixture  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--counts", default="40,80,160,320")
    args = parser.parse_args(argv)
    config = VAEConfig.load(os.path.join(args.run_dir, "config.json"))
    data = load_data(config.data, num_examples=config.num_examples,
                     seed=config.seed)
    vae = keras.saving.load_model(os.path.join(args.run_dir, "model.keras"))
    encoder = split_vae(vae, config).encoder

    def codes(images):
        return encoder.predict(as_float_images(images), batch_size=256,
                               verbose=0)[0]

    z_train, z_val = codes(data.train.images), codes(data.validation.images)
    print("components | validation log-likelihood (nats per code) | "
          "FD samples | FD reconstructions")
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(c) for c in args.counts.split(",")):
            mixture = select_mixture(z_train, z_val, candidates=(count,),
                                     seed=config.seed)
            run = os.path.join(tmp, str(count))
            shutil.copytree(args.run_dir, run)
            save_sampler(mixture, os.path.join(run, "sampler.json"))
            quality = evaluate_run(run, k=0, data=data, verbose=False,
                                   sampler="mixture")["quality"]
            score = mixture.selection["validation_log_likelihood"][str(count)]
            print(f"{count} | {score:.2f} | {quality['fd_samples']:.3f} | "
                  f"{quality['fd_reconstructions']:.3f}", flush=True)


if __name__ == "__main__":
    main()
