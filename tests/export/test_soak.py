"""The short soak (`benchmarks/soak.py`): the exported decoder in a TF1
session with the shipped platform config, 32 client threads at once."""

from __future__ import annotations

import os
import sys

import pytest

from repo import REPO
from vae_tf.runs import load_run

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import soak  # noqa: E402

PLATFORM = os.path.join(REPO, "serving", "platform_config.txt")


@pytest.fixture(scope="module")
def keras_models(trained_run):
    return load_run(trained_run)[1]


def test_concurrent_requests_get_the_keras_answer_or_an_error(
        exported, keras_models):
    result, _ = exported
    figures = soak.soak(soak.Server(result.decoder_dir, PLATFORM),
                        keras_models.decoder, threads=32, requests=600,
                        malformed=0.03, pool=16, seed=1)
    assert figures["unexpected_error_count"] == 0, figures
    assert figures["well_formed_wrong"] == 0, figures
    assert figures["well_formed_ok"] == 600 - 18
    assert figures["max_abs_diff"] <= 1e-5
    # Refused, never cast, reshaped or decoded (NaN: the fused oneDNN
    # bias+ReLU kernels map it to 0, so an unchecked NaN code came back
    # as a finite image).
    first_error = {}
    for kind in soak.KINDS:
        record = dict(figures["malformed"][kind])
        first_error[kind] = record.pop("first_error")
        assert record == {"errors": 6, "answered": 0, "non_finite": 0}, (
            kind, figures)
    assert first_error["dtype"] == ("Expects arg[0] to be float but double "
                                    "is provided")
    assert first_error["nan"].startswith("z holds NaN or infinite values")
