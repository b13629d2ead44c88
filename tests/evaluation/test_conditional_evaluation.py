"""`vae-tf evaluate` of a conditional run (issue 29): every number the
unconditional report has, computed with each image's own conditions, and
`condition_accuracy`, how often a draw shows the class it was asked for."""

import json
import types

import numpy as np

from vae_tf import cli
from vae_tf.data.conditions import ConditionSpec
from vae_tf.evaluation.quality import condition_accuracy
from vae_tf.samplers import PriorSampler


def test_evaluate_reports_a_conditional_run(conditional_run,
                                            conditional_export, tmp_path,
                                            capsys):
    result, _ = conditional_export
    out = tmp_path / "report.json"
    assert cli.main(["evaluate", str(conditional_run), "--k", "5",
                     "--decoder", result.decoder_dir,
                     "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    for key in ("neg_elbo", "reconstruction", "kl", "mig", "sap"):
        assert np.isfinite(report[key]), key
    assert report["iwae"]["k"] == 5
    quality = report["quality"]
    for key in ("fd_reconstructions", "fd_samples", "fd_floor",
                "fd_samples_served"):
        assert np.isfinite(quality[key]), key
    accuracy = quality["condition_accuracy"]
    assert {k: sorted(v) for k, v in accuracy.items()} == {
        "glasses": ["0", "1"],
        "hair_color": sorted(["black", "brown", "blond", "red"]),
        "smile": ["+1std", "-1std"]}
    assert all(0 <= v <= 1 for d in accuracy.values() for v in d.values())
    assert "condition_accuracy" in json.loads(
        capsys.readouterr().out.splitlines()[-2])


class _Probe:
    """Reads `glasses` off pixel (0, 0) and `smile` off pixel (0, 1)."""

    factors = [types.SimpleNamespace(name="glasses"),
               types.SimpleNamespace(name="smile")]

    def predict(self, images):
        return {"glasses": np.round(images[:, 0, 0, 0]).astype(int),
                "smile": images[:, 0, 1, 0]}


class _Decoder:
    """Draws the requested glasses class and smile, unless `ignore`."""

    def __init__(self, ignore=False):
        self.ignore = ignore

    def predict(self, inputs, verbose=0):
        n = len(inputs["z"])
        images = np.zeros((n, 2, 2, 1), np.float32)
        if self.ignore:
            images[:, 0, 0, 0] = np.arange(n) % 2
            images[:, 0, 1, 0] = np.where(np.arange(n) % 2, 1.0, -1.0)
        else:
            images[:, 0, 0, 0] = inputs["glasses"][:, 1]
            images[:, 0, 1, 0] = inputs["smile"][:, 0]
        return images


def test_condition_accuracy_scores_what_the_probe_reads():
    specs = [ConditionSpec("glasses", "class", (0, 1)),
             ConditionSpec("smile", "continuous", mean=0.0, std=0.5),
             ConditionSpec("beard", "class", (0, 1))]  # the probe can't
    attributes = {"glasses": np.tile([0, 1], 50),
                  "smile": np.linspace(-1, 1, 100),
                  "beard": np.tile([1, 0], 50)}
    got = condition_accuracy(_Probe(), _Decoder(), PriorSampler(3), specs,
                             attributes, n=40)
    assert got == {"glasses": {"0": 1.0, "1": 1.0},
                   "smile": {"-1std": 1.0, "+1std": 1.0}}
    ignored = condition_accuracy(_Probe(), _Decoder(ignore=True),
                                 PriorSampler(3), specs, attributes, n=40)
    assert ignored == {"glasses": {"0": 0.5, "1": 0.5},
                       "smile": {"-1std": 0.5, "+1std": 0.5}}
