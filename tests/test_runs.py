"""vae_tf.runs: the one owner of a run directory's files, model and splits."""

import numpy as np
import pytest

from vae_tf import cli, runs
from vae_tf.runs import directory
from vae_tf.data import SPLITS


def test_every_command_that_reads_a_run_loads_its_model_once(
        trained_run, tmp_path, monkeypatch):
    loads = []
    real = directory.load_model

    def counting(path):
        loads.append(path)
        return real(path)

    monkeypatch.setattr(directory, "load_model", counting)
    for argv in (
        ["evaluate", trained_run, "--k", "0", "--no-quality",
         "--out", str(tmp_path / "report.json")],
        ["reconstruct", trained_run, "--out", str(tmp_path / "r.png")],
        ["export", trained_run, "--base", str(tmp_path / "models")],
    ):
        loads.clear()
        assert cli.main(argv) == 0, argv
        assert len(loads) == 1, (argv[0], loads)


def test_split_seeds_are_fixed_per_split_and_distinct():
    from vae_tf.config import VAEConfig

    config = VAEConfig(data="faces", num_examples=128, seed=7,
                       likelihood="bernoulli", input_shape=(32, 32, 3))
    assert config.use_binarization
    data = runs.run_data(config)
    first = {s: runs.split_images(config, data, s) for s in SPLITS}
    for split, x in first.items():
        assert x.dtype == np.float32 and set(np.unique(x)) == {0.0, 1.0}
        np.testing.assert_array_equal(x, runs.split_images(config, data, split))
    # The validation images binarized with the test split's seed differ,
    # and a config with another seed binarizes them differently too.
    images = data.validation.images
    for other in (runs.evaluation_images(config, images, "test"),
                  runs.evaluation_images(config.replace(seed=8), images,
                                         "validation")):
        assert not np.array_equal(np.asarray(other, np.float32) / other.max(),
                                  first["validation"])


def test_unknown_split_names_the_choices(trained_run):
    run = runs.Run(trained_run)
    with pytest.raises(ValueError, match="train, validation, test"):
        run.split_images("val")
    with pytest.raises(ValueError, match="train, validation, test"):
        runs.evaluation_images(run.config, run.data.test.images, "dev")
