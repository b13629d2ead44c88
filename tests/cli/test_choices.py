"""Every name a user can choose (a `vae-tf` flag, a `VAEConfig` field) is
defined once, by the module that implements it; the parser and the config
read it from there, and reading it loads no TensorFlow."""

import dataclasses
import importlib
import subprocess
import sys

import numpy as np
import pytest

from vae_tf import cli
from vae_tf.config import ConfigError, VAEConfig

# (subcommand, flag, VAEConfig field or None, defining module, name)
CHOICES = [
    ("train", "--architecture", "architecture", "vae_tf.models.networks",
     "ARCHITECTURES"),
    ("train", "--likelihood", "likelihood", "vae_tf.distributions.likelihoods",
     "LIKELIHOODS"),
    ("train", "--beta-schedule", "beta_schedule", "vae_tf.schedules",
     "BETA_SCHEDULES"),
    ("train", "--lr-schedule", "lr_schedule", "vae_tf.schedules",
     "LR_SCHEDULES"),
    ("train", "--sampler", "sampler", "vae_tf.samplers", "SAMPLER_CHOICES"),
    ("train", "--precision", "precision", "vae_tf.models.precision",
     "PRECISIONS"),
    ("train", "--strategy", None, "vae_tf.training.distribute", "STRATEGIES"),
    ("export", "--sampler", None, "vae_tf.samplers", "SAMPLERS"),
    ("export", "--precision", None, "vae_tf.models.precision",
     "EXPORT_PRECISIONS"),
    ("sample", "--sampler", None, "vae_tf.samplers", "SAMPLERS"),
    ("evaluate", "--sampler", None, "vae_tf.samplers", "SAMPLERS"),
    ("evaluate", "--split", None, "vae_tf.data", "SPLITS"),
    ("reconstruct", "--split", None, "vae_tf.data", "SPLITS"),
    ("edit", "--split", None, "vae_tf.data", "SPLITS"),
    ("interpolate", "--method", None, "vae_tf.generate.interpolation",
     "INTERPOLATIONS"),
]


def _option(command: str, flag: str):
    subcommands = next(a for a in cli.build_parser()._actions
                       if a.dest == "command")
    parser = subcommands.choices[command]
    return next(a for a in parser._actions if flag in a.option_strings)


@pytest.mark.parametrize("command, flag, field, module, name", CHOICES)
def test_flags_and_config_offer_the_implementing_modules_names(
        command, flag, field, module, name):
    names = getattr(importlib.import_module(module), name)
    assert _option(command, flag).choices is names
    if field is None:
        return
    assert getattr(VAEConfig(), field) in names
    with pytest.raises(ConfigError) as err:
        VAEConfig(**{field: "bogus"}).validate()
    assert f"Choose one of: {', '.join(names)}" in str(err.value)


def test_each_listed_name_is_implemented():
    """The lists are the implementations' own: every name builds, and
    nothing implemented is missing from a list."""
    from vae_tf import samplers
    from vae_tf.models import networks
    from vae_tf.data import SPLITS, DataSet
    from vae_tf.distributions.likelihoods import (LIKELIHOODS,
                                                  negative_log_likelihood)
    from vae_tf.schedules import (BETA_SCHEDULES, LR_SCHEDULES,
                                  learning_rate_schedule, schedule_callbacks)

    for name in networks.ARCHITECTURES:
        module = networks.architecture(name)
        assert callable(module.encoder_body) and callable(module.decoder_body)
    with pytest.raises(ValueError, match="Unknown architecture 'vgg'"):
        networks.architecture("vgg")
    assert {c.kind for c in (samplers.PriorSampler, samplers.MixtureSampler,
                             samplers.FlowSampler)} == set(samplers.SAMPLERS)
    assert samplers.SAMPLER_CHOICES == (*samplers.SAMPLERS, "auto")
    assert SPLITS == tuple(f.name for f in dataclasses.fields(DataSet)
                           if f.name not in ("name", "skipped"))
    x = np.full((2, 4, 4, 1), 0.5, np.float32)
    for likelihood in LIKELIHOODS:
        nll = np.asarray(negative_log_likelihood(x, x, likelihood, 0.1))
        assert nll.shape == (2,) and np.isfinite(nll).all()
    config = VAEConfig()
    callbacks = [schedule_callbacks(config.replace(beta_schedule=b), 10)
                 for b in BETA_SCHEDULES]
    assert [len(c) for c in callbacks] == [0, 1, 1, 1]
    rates = [learning_rate_schedule(config.replace(lr_schedule=r), 10)
             for r in LR_SCHEDULES]
    assert rates[0] == config.learning_rate
    assert float(rates[1](10 * config.epochs)) == pytest.approx(0.0)


def test_the_parser_and_config_load_without_tensorflow():
    """`vae-tf --help` and config checks stay fast and print no TensorFlow
    logs: building the parser, its help and a config import neither
    TensorFlow nor Keras."""
    program = """
import sys
from vae_tf import cli
from vae_tf.config import VAEConfig
cli.build_parser().format_help()
VAEConfig().validate()
print("HEAVY", sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", program],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY []" in done.stdout, done.stdout
