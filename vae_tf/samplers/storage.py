"""Samplers as plain numbers: `SAMPLERS` (the config and CLI names),
`to_dict` / `sampler_from_dict`, and the JSON file a run keeps them in
(`vae_tf.runs` names it), written atomically."""

from __future__ import annotations

import json

from vae_tf._internal import io_utils
from vae_tf.samplers.flow import FlowSampler
from vae_tf.samplers.mixture import MixtureSampler
from vae_tf.samplers.prior import PriorSampler

# Config and CLI names, one per sampler class.
SAMPLERS = (MixtureSampler.kind, FlowSampler.kind, PriorSampler.kind)
# What `VAEConfig.sampler` takes: a kind, or "auto" (the held-out choice
# between the mixture and the flow, `selection.choose`).
SAMPLER_CHOICES = (*SAMPLERS, "auto")


def sampler_from_dict(values: dict):
    """Inverse of `to_dict` for any sampler."""
    kind = values.get("kind") if isinstance(values, dict) else None
    if kind == "prior":
        return PriorSampler(values["latent_dim"])
    if kind == "mixture":
        return MixtureSampler(
            values["weights"], values["means"], values["covariances"],
            values.get("selection"), values.get("condition_tables"),
        )
    if kind == "flow":
        return FlowSampler(values["mean"], values["std"], values["layers"],
                           values.get("selection"))
    raise ValueError(
        f"Unknown sampler kind {kind!r}. Choose one of: {', '.join(SAMPLERS)}"
    )


def save_sampler(sampler, path: str) -> None:
    """Writes the sampler as JSON, atomically."""
    io_utils.atomic_write_text(path, json.dumps(sampler.to_dict()) + "\n")


def load_sampler(path: str):
    """Reads a `save_sampler` file; `ValueError` if it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            return sampler_from_dict(json.load(f))
    except FileNotFoundError:
        raise FileNotFoundError(f"Sampler file not found: {path}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path} is not a vae_tf sampler file ({err}). Delete it to use "
            "the prior, or refit it."
        ) from None
