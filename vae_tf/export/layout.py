"""TensorFlow Serving's folder layout, and writing a version atomically.

    BASE/NAME_encoder/<version>/  saved_model.pb, variables/, assets.extra/
    BASE/NAME_decoder/<version>/  ..., and model.tflite with --tflite

TF Serving serves the all-digit folders of a model's base path. A version
is written into a hidden temporary folder (`.tmp-...`, which the server
ignores) inside the base path and renamed into place, so a server polling
the base path never sees a partial version; an existing version is never
overwritten. Plain `os`: no TensorFlow here, so clients can use it.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid

ENCODER_SUFFIX = "_encoder"
DECODER_SUFFIX = "_decoder"
ASSETS_EXTRA = "assets.extra"
# Files in assets.extra/ (written by `assets`, read by `check` and
# `fresh_load`).
WARMUP_FILE = "tf_serving_warmup_requests"
METADATA_FILE = "vae_tf.json"
REFERENCE_FILE = "vae_tf_reference.npz"
# Beside the decoder's saved_model.pb (`vae-tf export --tflite`).
TFLITE_FILE = "model.tflite"
TMP_PREFIX = ".tmp-"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ExportError(ValueError):
    """The export cannot be written (bad name, unwritable base, ...)."""


def validate_name(name: str) -> str:
    """Model names become directory names: letters, digits, `_ . -` only."""
    if (
        not isinstance(name, str)
        or not _NAME.match(name)
        or ".." in name
    ):
        raise ExportError(
            f"Invalid export name {name!r}: use letters, digits, '_', '-' "
            "and '.', starting with a letter or digit, no '..' and no path "
            "separators (e.g. --name faces_vae)."
        )
    return name


def model_bases(base: str, name: str) -> tuple[str, str]:
    """`(BASE/NAME_encoder, BASE/NAME_decoder)`, created and writable.

    Raises:
        ExportError: a bad `name`, or `base` cannot be written.
    """
    validate_name(name)
    bases = (os.path.join(base, name + ENCODER_SUFFIX),
             os.path.join(base, name + DECODER_SUFFIX))
    try:
        for folder in bases:
            os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise ExportError(
            f"Cannot create export folders under {base!r}: {err.strerror}. "
            "Choose a writable --base."
        ) from None
    for folder in bases:
        if not os.access(folder, os.W_OK):
            raise ExportError(
                f"Export folder {folder!r} is not writable. Choose a "
                "writable --base."
            )
    return bases


def versions(model_dir: str) -> list[int]:
    """Integer version directories under a model base path, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(d) for d in os.listdir(model_dir)
        if d.isdigit() and os.path.isdir(os.path.join(model_dir, d))
    )


def next_version(*model_dirs: str) -> int:
    """One more than the newest version in any of `model_dirs` (1 if none):
    the encoder and decoder of one export share a version number."""
    return max([v for d in model_dirs for v in versions(d)] + [0]) + 1


def temp_version_dir(model_dir: str, version: int) -> str:
    """A fresh hidden folder in `model_dir` to write `version` into."""
    return os.path.join(
        model_dir, f"{TMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    )


def publish(tmp: str, model_dir: str, version: int) -> str:
    """Renames the finished `tmp` folder to `model_dir/<version>`."""
    target = os.path.join(model_dir, str(version))
    if os.path.exists(target):
        raise ExportError(
            f"{target} appeared while exporting; not overwriting it."
        )
    os.rename(tmp, target)
    return target


def prune_versions(model_dir: str, keep: int) -> list[int]:
    """Deletes all but the newest `keep` versions; returns those removed.

    Each version is first renamed to a hidden name (TF Serving unloads it
    at once and never sees it half-deleted), then removed.
    """
    removed = versions(model_dir)[:-keep]
    for v in removed:
        doomed = os.path.join(
            model_dir, f"{TMP_PREFIX}delete-{v}-{uuid.uuid4().hex[:8]}"
        )
        os.rename(os.path.join(model_dir, str(v)), doomed)
        shutil.rmtree(doomed)
    return removed


def resolve_version_dir(path: str) -> str:
    """A model base path resolves to its newest version directory; a
    version directory (one with `saved_model.pb`) to itself."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    found = versions(path)
    if not found:
        raise FileNotFoundError(
            f"{path} is neither a SavedModel (no saved_model.pb) nor a model "
            "base path with integer version folders."
        )
    return os.path.join(path, str(found[-1]))
