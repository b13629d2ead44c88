"""Where vae_tf keeps what it computes once and reuses: `$VAE_TF_CACHE`,
or `~/.cache/vae_tf` (probes under `probes/`, drawn data sets under
`data/`)."""

from __future__ import annotations

import os


def cache_dir() -> str:
    """`$VAE_TF_CACHE`, or `~/.cache/vae_tf`."""
    return os.environ.get("VAE_TF_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "vae_tf"
    )
