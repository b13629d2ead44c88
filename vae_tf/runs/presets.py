"""Pretrained models that ship with vae_tf: use one without training.

    config, models, sampler = vae_tf.load_pretrained("faces")
    images, z = vae_tf.sample(models.decoder, 16, sampler=sampler)

A preset is a finished run directory, `saved_models/<name>/` (config,
a Keras archive without optimizer state, the fitted samplers, history,
pictures, the `vae-tf evaluate` report and `recipe.json`: the command,
seed, wall time, machine and versions that built it), beside its two
exports in TF Serving's layout, `saved_models/<name>_encoder/1/` and
`saved_models/<name>_decoder/1/`, which `serving/models.config` serves.
`python tools/build_pretrained.py <name>` rebuilds all of it.

Every `vae-tf` command that reads a run takes `--pretrained NAME`
instead of a run directory (and uses `faces` when given neither).
"""

from __future__ import annotations

import os
from typing import Optional

# Presets, by name: the command that trains each (tools/build_pretrained.py
# runs it and records it in the preset's recipe.json).
PRESETS = {
    "faces": ["train", "--data", "faces", "--epochs", "40",
              "--lr-schedule", "one_cycle", "--learning-rate", "0.003",
              "--sampler", "auto", "--seed", "0"],
}
DEFAULT_PRESET = "faces"
RECIPE_FILE = "recipe.json"


class PresetNotFoundError(FileNotFoundError):
    """A preset's files are not where vae_tf looks for them."""


def search_path() -> list[str]:
    """Folders searched for presets, in order: `$VAE_TF_PRETRAINED`, the
    checkout's `saved_models/` (beside the package), `./saved_models`."""
    here = os.path.abspath(__file__)  # CHECKOUT/vae_tf/runs/presets.py
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    places = [os.environ.get("VAE_TF_PRETRAINED"),
              os.path.join(package_root, "saved_models"),
              os.path.abspath("saved_models")]
    seen, out = set(), []
    for place in places:
        if place and place not in seen:
            seen.add(place)
            out.append(place)
    return out


def preset_dir(name: str = DEFAULT_PRESET) -> str:
    """The run directory of preset `name`.

    Raises:
        ValueError: an unknown name.
        PresetNotFoundError: its files are missing, naming where vae_tf
            looked and how to get them.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown pretrained model {name!r}. Choose one "
                         f"of: {', '.join(PRESETS)}")
    for base in search_path():
        folder = os.path.join(base, name)
        if os.path.isfile(os.path.join(folder, "model.keras")):
            return folder
    raise PresetNotFoundError(
        f"The pretrained {name!r} model is not installed: no "
        f"{name}/model.keras in {', '.join(search_path())}. It ships in "
        "the saved_models/ folder of the vae_tf repository (a git "
        "checkout, not the wheel); point $VAE_TF_PRETRAINED at a copy, or "
        f"rebuild it with `python tools/build_pretrained.py {name}` "
        "(trains it, ~21 minutes on 2 cores).")


def load_pretrained(name: str = DEFAULT_PRESET, sampler: Optional[str] = None):
    """`(config, models, sampler)` of preset `name`: the `VAEConfig`, the
    `VAEModels` (vae, encoder, decoder; safe-mode loaded, float32) and
    the sampler its exported `sample` signature draws from (or `sampler`:
    mixture, flow, prior)."""
    from vae_tf.runs.directory import Run

    run = Run(preset_dir(name))
    return run.config, run.models, run.sampler(sampler)
