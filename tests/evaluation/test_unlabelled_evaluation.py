"""`vae-tf evaluate` on data without labels (issue 30, point 3): every
number that needs none (-ELBO, IWAE, active units, reconstruction PSNR
and SSIM, the aggregate posterior), and the sections it skipped, each
with its reason; data with labels keeps the probe's section."""

import json

import numpy as np
import pytest

from vae_tf import cli
from vae_tf.data import load_data
from vae_tf.runs import Run

TINY = {"input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 16, "batch_size": 32, "epochs": 1}


@pytest.fixture(scope="module")
def npz_runs(tmp_path_factory):
    """Two runs on the same faces saved as npz: without any label, and
    with a class label (as Fashion-MNIST has)."""
    folder = tmp_path_factory.mktemp("unlabelled")
    faces = load_data("faces", num_examples=400, seed=0,
                      image_shape=(32, 32, 3))
    images = np.concatenate([faces.train.images, faces.validation.images,
                             faces.test.images])
    label = np.concatenate([faces.train.attributes["glasses"],
                            faces.validation.attributes["glasses"],
                            faces.test.attributes["glasses"]])
    np.savez(folder / "plain.npz", x=images)
    np.savez(folder / "labelled.npz", x=images, label=label)
    config = folder / "tiny.json"
    config.write_text(json.dumps(TINY))
    runs = {}
    for name in ("plain", "labelled"):
        runs[name] = folder / name
        assert cli.main(["train", "--config", str(config), "--data",
                         f"npz:{folder / name}.npz", "--out",
                         str(runs[name])]) == 0
    return runs


def test_unlabelled_data_gets_every_label_free_number(npz_runs, capsys):
    out = npz_runs["plain"] / "report.json"
    assert cli.main(["evaluate", str(npz_runs["plain"]), "--k", "5",
                     "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    for key in ("neg_elbo", "reconstruction", "kl"):
        assert np.isfinite(report[key])
    assert report["iwae"]["k"] == 5 and report["active_units"] >= 0
    assert np.isfinite(report["aggregate_posterior"]["gaussian_fit_kl"])
    pixels = report["reconstruction_pixels"]
    assert 5 < pixels["psnr_db"] < 60 and -1 <= pixels["ssim"] <= 1
    assert set(report["skipped"]) == {"disentanglement", "quality"}
    assert "needs labels" in report["skipped"]["quality"]
    assert "quality" not in report and report["mig"] is None
    printed = capsys.readouterr().out
    assert "vae-tf evaluate: skipped quality: " in printed
    assert '"psnr_db"' in printed


def test_psnr_is_the_pixel_error_of_the_reconstructions(npz_runs):
    """PSNR = 10 log10(1 / MSE) per image, MSE against the split's images
    in [0, 1], of the decoded posterior means, averaged."""
    import vae_tf
    from vae_tf.evaluation.report import pixel_report

    run = Run(str(npz_runs["plain"]))
    x = run.split_images("test")
    recon = vae_tf.reconstruct_images(run.models, x)
    mse = ((recon - x) ** 2).reshape(len(x), -1).mean(axis=1)
    expected = np.mean(10 * np.log10(1.0 / mse))
    got = pixel_report(run, x, "test", batch_size=7)  # several batches
    assert got["psnr_db"] == pytest.approx(expected, abs=1e-3)


def test_labelled_data_keeps_the_probe_section(npz_runs):
    out = npz_runs["labelled"] / "report.json"
    assert cli.main(["evaluate", str(npz_runs["labelled"]), "--k", "0",
                     "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert np.isfinite(report["quality"]["fd_reconstructions"])
    assert "label" in report["quality"]["attributes"]
    assert set(report["skipped"]) == {"disentanglement"}
