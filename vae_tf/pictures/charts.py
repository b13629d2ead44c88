"""Charts of a run as PNGs (matplotlib, Agg backend): the latent space
scatter and the loss curves of `vae-tf evaluate`."""

from __future__ import annotations

import os

import numpy as np

from vae_tf._internal import io_utils


def _figure_to_png(fig, path: str | os.PathLike) -> None:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    io_utils.atomic_write_bytes(path, buffer.getvalue())


def save_latent_scatter(
    path: str | os.PathLike, z: np.ndarray, color: np.ndarray,
    label: str = "label",
) -> None:
    """2-D scatter of codes `(n, K)` coloured by `color` `(n,)`.

    Uses the first two dimensions when K <= 2, else the first two
    principal components (PCA by SVD of the centred codes).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = np.asarray(z, np.float64)
    if z.shape[1] > 2:
        centred = z - z.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        xy = centred @ vt[:2].T
        explained = (s[:2] ** 2 / (s**2).sum() * 100).round(1)
        axes = [f"PC{i + 1} ({e}% var.)" for i, e in enumerate(explained)]
    else:
        xy = np.pad(z, ((0, 0), (0, 2 - z.shape[1])))
        axes = ["z_0", "z_1"]
    fig, ax = plt.subplots(figsize=(6, 5))
    color = np.asarray(color)
    discrete = (np.issubdtype(color.dtype, np.integer)
                and len(np.unique(color)) <= 10)
    points = ax.scatter(xy[:, 0], xy[:, 1], c=color, s=6,
                        cmap="tab10" if discrete else "viridis")
    fig.colorbar(points, ax=ax, label=label)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(f"Posterior means coloured by {label}")
    _figure_to_png(fig, path)
    plt.close(fig)


def save_loss_curves(
    path: str | os.PathLike, history: dict[str, list[float]]
) -> None:
    """Loss, reconstruction and KL per epoch (train and validation), and
    the beta-TCVAE's total correlation when the history has it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in ("loss", "reconstruction", "kl", "total_correlation")
            if k in history]
    if not keys:
        raise ValueError(
            "history has none of loss, reconstruction, kl: "
            f"{sorted(history)}"
        )
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.6))
    axes = np.atleast_1d(axes)
    for ax, key in zip(axes, keys):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{key} (nats/image)")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    _figure_to_png(fig, path)
    plt.close(fig)
