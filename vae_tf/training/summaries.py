"""What TensorBoard shows of a run besides `fit`'s scalars.

`LatentSummaries` is a Keras callback that writes, into the run's
`logs/latent/` (a TensorBoard run of its own beside Keras' `train` and
`validation`):

- every epoch, the image `reconstructions` (a fixed set of validation
  images, row 1, over their reconstructions from `z_mean`, row 2) and the
  image `samples` (the decoder at fixed prior draws z ~ N(0, I)), so one
  can watch both sharpen epoch by epoch; and the histograms `z_mean` and
  `z_log_var` of the validation codes;
- when training ends, an embedding-projector entry: the `z_mean` of up to
  1,000 validation images (`logs/projector/z_mean.tsv`), their attributes
  or labels (`metadata.tsv`) and thumbnails (`sprite.png`), registered in
  `logs/projector_config.pbtxt`.
"""

from __future__ import annotations

import math
import os
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from vae_tf._internal import io_utils
from vae_tf.models import VAEModels, moments_encoder
from vae_tf.pictures import png
from vae_tf._internal.pixels import as_float_images

LATENT_RUN = "latent"
PROJECTOR_DIR = "projector"
PROJECTOR_CONFIG = "projector_config.pbtxt"  # the name TensorBoard reads
PROJECTOR_POINTS = 1000


class LatentSummaries(keras.callbacks.Callback):
    """Per-epoch image and histogram summaries, and the projector at the
    end (see the module docstring).

    Args:
        models: the VAE's encoder and decoder (shared weights).
        logdir: the run's TensorBoard folder (`RUN_DIR/logs`).
        images: validation images `(n, H, W, C)` as the model sees them.
        attributes: per-image arrays `(n,)` of the same images (labels or
            attributes) for the projector's metadata; may be empty.
        seed: seeds the fixed prior draws.
        num_images: images in the reconstruction and sample strips.
        conditions: a conditional model's encoded conditions of `images`
            (`{factor: (n, width)}`): reconstructions use each image's,
            sample i the factors of image i (as `samples.png`).
    """

    def __init__(self, models: VAEModels, logdir: str, images: np.ndarray,
                 attributes: dict[str, np.ndarray], seed: int = 0,
                 num_images: int = 8, conditions: Optional[dict] = None):
        super().__init__()
        self.models = models
        self.logdir = logdir
        self.images = as_float_images(images[:PROJECTOR_POINTS])
        self.attributes = {k: np.asarray(v)[:len(self.images)]
                           for k, v in attributes.items()}
        latent_dim = models.encoder.outputs[0].shape[-1]
        self.z_fixed = np.random.default_rng(seed).standard_normal(
            (num_images, latent_dim)).astype(np.float32)
        self.num_images = num_images
        self.conditions = None if conditions is None else {
            k: np.asarray(v)[:len(self.images)]
            for k, v in conditions.items()}
        self._writer = None
        # The moments only: the encoder's Sampling output would advance
        # the seed state training uses (and BackupAndRestore saves), so a
        # run with summaries would train on other noise than one without.
        self._moments = moments_encoder(models.encoder)

    def _encode(self) -> tuple[np.ndarray, np.ndarray]:
        z_mean, z_log_var = self._moments.predict(
            self._inputs("image", self.images), batch_size=256, verbose=0)
        return z_mean, z_log_var

    def _inputs(self, main: str, array: np.ndarray):
        """`array`, or with the conditions of its first rows."""
        if self.conditions is None:
            return array
        return {main: array, **{k: v[:len(array)]
                                for k, v in self.conditions.items()}}

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(
                os.path.join(self.logdir, LATENT_RUN))
        z_mean, z_log_var = self._encode()
        shown = self.images[:self.num_images]
        recon = self.models.decoder.predict(
            self._inputs("z", z_mean[:len(shown)]), verbose=0)
        samples = self.models.decoder.predict(
            self._inputs("z", self.z_fixed), verbose=0)
        step = epoch  # as Keras' TensorBoard logs the epoch scalars
        with self._writer.as_default():
            tf.summary.image(
                "reconstructions",
                _grid(np.concatenate([shown, recon]), rows=2), step=step,
                description="validation images (top) over their "
                            "reconstructions from z_mean (bottom)")
            tf.summary.image(
                "samples", _grid(samples, rows=1), step=step,
                description="the decoder at fixed prior draws z ~ N(0, I)")
            tf.summary.histogram("z_mean", z_mean, step=step)
            tf.summary.histogram("z_log_var", z_log_var, step=step)
        self._writer.flush()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self._writer is not None:
            self._writer.close()
        write_projector(self.logdir, self._encode()[0], self.images,
                        self.attributes)


def _grid(images: np.ndarray, rows: int) -> np.ndarray:
    """A `(1, H', W', C)` float batch of one image grid, for tf.summary."""
    return png.image_grid(images, rows)[None].astype(np.float32) / 255.0


def write_projector(logdir: str, z_mean: np.ndarray, images: np.ndarray,
                    attributes: dict[str, np.ndarray]) -> str:
    """Writes the embedding projector's files for `z_mean` `(n, K)` of
    `images` `(n, H, W, C)`; returns the config's path. Each file is
    written atomically."""
    from google.protobuf import text_format
    from tensorboard.plugins import projector

    folder = os.path.join(logdir, PROJECTOR_DIR)
    os.makedirs(folder, exist_ok=True)
    io_utils.atomic_write_text(
        os.path.join(folder, "z_mean.tsv"),
        "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in z_mean))
    n, h, w = images.shape[:3]
    cols = math.ceil(math.sqrt(n))
    sprite = png.image_grid(images, rows=math.ceil(n / cols), pad=0)
    png.save_png(os.path.join(folder, "sprite.png"), sprite)

    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "z_mean"
    embedding.tensor_path = f"{PROJECTOR_DIR}/z_mean.tsv"
    embedding.sprite.image_path = f"{PROJECTOR_DIR}/sprite.png"
    embedding.sprite.single_image_dim.extend([w, h])
    if attributes:
        io_utils.atomic_write_text(os.path.join(folder, "metadata.tsv"),
                                   _metadata_tsv(attributes))
        embedding.metadata_path = f"{PROJECTOR_DIR}/metadata.tsv"
    path = os.path.join(logdir, PROJECTOR_CONFIG)
    io_utils.atomic_write_text(path, text_format.MessageToString(config))
    return path


def _metadata_tsv(attributes: dict[str, np.ndarray]) -> str:
    """One row per point; a header row only with several columns, as the
    projector expects."""
    names = sorted(attributes)
    columns = [[_cell(v) for v in attributes[name]] for name in names]
    rows = ["\t".join(cells) for cells in zip(*columns)]
    if len(names) > 1:
        rows.insert(0, "\t".join(names))
    return "\n".join(rows) + "\n"


def _cell(value) -> str:
    if np.issubdtype(np.asarray(value).dtype, np.integer):
        return str(int(value))
    return f"{float(value):.3g}"
