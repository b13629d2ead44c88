"""The probe: a small network trained on a data set's real training images
to read its factors, whose features are the space sample quality is
measured in.

For `faces` and `shapes` the probe predicts the ground-truth factors, for
labelled data (Fashion-MNIST, CelebA folders, npz files with label arrays)
the labels. Integer factors with at most `MAX_CLASSES` values are classes
(glasses, beard, hair colour, shape, label), float factors are regressed
(smile, pose, position; standardised). Its last hidden layer (`FEATURES`
units) is the feature space of `vae_tf.evaluation.metrics.frechet_distance`, the
same role Inception features play in FID (Heusel et al. 2017), but
trained on the data at hand, so it sees the attributes users care about.

A probe is deterministic for a seed (seeded initializers and shuffling)
and trained once per data set: it is cached under `cache_dir()/probes/`
(default `~/.cache/vae_tf`, or `$VAE_TF_CACHE`), keyed by a fingerprint of
the training images, so every run and every `vae-tf evaluate` on the same
data compares in the same space.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from vae_tf._internal import io_utils
from vae_tf._internal.cache import cache_dir
from vae_tf.data.pipeline import as_float_images

PROBE_VERSION = 1
FEATURES = 128
MAX_CLASSES = 20
DEFAULT_EPOCHS = 6
DEFAULT_MAX_IMAGES = 20000


class NoLabelsError(ValueError):
    """The data set has no labels or factors a probe could learn."""


@dataclasses.dataclass
class Factor:
    """One predicted factor: `binary`/`categorical` (with `classes`) or
    `continuous` (standardised with `mean`, `std`)."""

    name: str
    kind: str
    classes: int = 0
    mean: float = 0.0
    std: float = 1.0

    @property
    def is_discrete(self) -> bool:
        return self.kind in ("binary", "categorical")


def factor_specs(attributes: dict[str, np.ndarray]) -> list[Factor]:
    """Which attributes the probe learns, and how.

    Integer arrays with 2..`MAX_CLASSES` values 0..n-1 are classes;
    float arrays with spread are regressed; others are skipped.
    """
    specs = []
    for name in sorted(attributes):
        values = np.asarray(attributes[name])
        if values.ndim != 1 or len(values) < 2:
            continue
        if np.issubdtype(values.dtype, np.integer) or np.issubdtype(
            values.dtype, np.bool_
        ):
            v = values.astype(np.int64)
            low, high = int(v.min()), int(v.max())
            if low == -1 and set(np.unique(v)) <= {-1, 1}:  # CelebA +-1
                low = 0
            if low >= 0 and 1 <= high < MAX_CLASSES:
                kind = "binary" if high == 1 else "categorical"
                specs.append(Factor(name, kind, classes=high + 1))
        elif np.issubdtype(values.dtype, np.floating):
            std = float(values.std())
            if std > 0:
                specs.append(
                    Factor(name, "continuous", mean=float(values.mean()),
                           std=std)
                )
    return specs


def _targets(factors, attributes) -> dict[str, np.ndarray]:
    out = {}
    for f in factors:
        v = np.asarray(attributes[f.name])
        if f.is_discrete:
            out[f.name] = np.clip(v.astype(np.int64), 0, None).astype(np.int32)
        else:
            out[f.name] = ((v - f.mean) / f.std).astype(np.float32)[:, None]
    return out


def build_probe_model(
    image_shape: tuple[int, int, int], factors: list[Factor], seed: int
) -> keras.Model:
    """image `(batch, H, W, C)` -> `{"features": (batch, FEATURES),
    factor name: logits (batch, classes) or value (batch, 1)}`."""
    counter = iter(range(1000))

    def init():
        return keras.initializers.GlorotUniform(
            seed=seed * 1000 + next(counter)
        )

    image = keras.Input(image_shape, name="image")
    h = image
    side, filters = min(image_shape[:2]), (32, 64, 64, 128)
    for i, width in enumerate(filters):
        if side < 8:
            break
        h = keras.layers.Conv2D(
            width, 3, strides=2, padding="same", activation="relu",
            kernel_initializer=init(), name=f"probe_conv_{i}",
        )(h)
        side //= 2
    h = keras.layers.Flatten(name="probe_flatten")(h)
    features = keras.layers.Dense(
        FEATURES, activation="relu", kernel_initializer=init(),
        name="features",
    )(h)
    outputs = {"features": features}
    for f in factors:
        outputs[f.name] = keras.layers.Dense(
            f.classes if f.is_discrete else 1, kernel_initializer=init(),
            name=f"head_{f.name}",
        )(features)
    return keras.Model(image, outputs, name="probe")


class Probe:
    """A trained probe: `features(images)` and `predict(images)`.

    Images are `(n, H, W, C)`, uint8 or float in [0, 1].
    """

    def __init__(self, model: keras.Model, factors: list[Factor]):
        self.model = model
        self.factors = list(factors)
        self._call = tf.function(
            lambda x: model(x, training=False), reduce_retracing=True
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.model.input_shape[1:])

    def _outputs(self, images, batch_size: int = 500) -> dict[str, np.ndarray]:
        x = as_float_images(images)
        if x.shape[1:] != self.image_shape:
            raise ValueError(
                f"The probe takes images of shape {self.image_shape}. "
                f"Received: {x.shape[1:]}"
            )
        parts: dict[str, list] = {}
        for start in range(0, len(x), batch_size):
            out = self._call(tf.constant(x[start:start + batch_size]))
            for key, value in out.items():
                parts.setdefault(key, []).append(value.numpy())
        return {k: np.concatenate(v) for k, v in parts.items()}

    def features(self, images) -> np.ndarray:
        """Feature vectors, `(n, FEATURES)` float64."""
        return self._outputs(images)["features"].astype(np.float64)

    def predict(self, images) -> dict[str, np.ndarray]:
        """Factor name -> `(n,)`: class ids, or values in data units."""
        return self.decode(self._outputs(images))

    def decode(self, outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for f in self.factors:
            raw = outputs[f.name]
            if f.is_discrete:
                out[f.name] = raw.argmax(axis=-1).astype(np.int32)
            else:
                out[f.name] = raw[:, 0] * f.std + f.mean
        return out

    def save(self, path: str) -> None:
        """Writes `path` (.keras) and `path`.json (factors), atomically."""
        with io_utils.atomic_path(path, suffix=".keras") as tmp:
            self.model.save(tmp)
        io_utils.atomic_write_text(
            path + ".json",
            json.dumps({
                "version": PROBE_VERSION,
                "factors": [dataclasses.asdict(f) for f in self.factors],
            }, indent=2) + "\n",
        )

    @classmethod
    def load(cls, path: str) -> "Probe":
        with open(path + ".json", encoding="utf-8") as f:
            spec = json.load(f)
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
        return cls(model, [Factor(**f) for f in spec["factors"]])


def train_probe(
    images: np.ndarray, attributes: dict[str, np.ndarray], seed: int = 0,
    epochs: int = DEFAULT_EPOCHS, batch_size: int = 64,
    verbose: int = 0,
) -> Probe:
    """Trains a probe on real images and their attributes.

    Raises:
        NoLabelsError: the data has no attribute a probe can learn.
    """
    factors = factor_specs(attributes)
    if not factors:
        raise NoLabelsError(
            "The probe needs labels or ground-truth factors (integer classes"
            " or float values, one per image); this data set has none: "
            f"{sorted(attributes) or 'no attributes'}."
        )
    x = as_float_images(images)
    model = build_probe_model(x.shape[1:], factors, seed)
    losses = {
        f.name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if f.is_discrete else keras.losses.MeanSquaredError()
        for f in factors
    }
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={**losses, "features": None},
    )
    targets = _targets(factors, attributes)
    ds = tf.data.Dataset.from_tensor_slices((x, targets))
    ds = ds.shuffle(len(x), seed=seed).batch(batch_size).prefetch(2)
    model.fit(ds, epochs=epochs, verbose=verbose)
    return Probe(model, factors)


def fingerprint(images: np.ndarray, attributes: dict[str, np.ndarray]) -> str:
    """A short hash of the images (strided sample) and attribute names."""
    digest = hashlib.sha256()
    digest.update(repr((images.shape, str(images.dtype))).encode())
    step = max(1, len(images) // 256)
    digest.update(np.ascontiguousarray(images[::step]).tobytes())
    for name in sorted(attributes):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(attributes[name][::step]).tobytes())
    return digest.hexdigest()[:16]


def probe_for(data, seed: int = 0, verbose: bool = True,
              epochs: int = DEFAULT_EPOCHS,
              max_images: int = DEFAULT_MAX_IMAGES,
              search: tuple = ()) -> Probe:
    """The cached probe of `data` (a `DataSet`), trained on first use.

    Trains on up to `max_images` training images (the validation split
    when the training split is streamed from shards). A probe of the
    same data, seed and version found in one of the `search` folders
    under its cache name (a pretrained preset ships the one its numbers
    were measured with) is copied into the cache instead of training, so
    every run on that data is then scored in the same feature space.

    Raises:
        NoLabelsError: the data has nothing a probe can learn.
    """
    images, attributes = _training_set(data, max_images)
    if not factor_specs(attributes):  # before any message or training
        raise NoLabelsError(
            f"{data.name!r} has no labels or ground-truth factors (integer "
            "classes or float values, one per image) for the probe to "
            f"learn: {sorted(attributes) or 'no attributes'}.")
    path = probe_path(data, seed, epochs, max_images)
    _adopt(path, search)
    if os.path.isfile(path) and os.path.isfile(path + ".json"):
        try:
            return Probe.load(path)
        except Exception:  # a corrupt cache entry is retrained, not fatal
            pass
    if verbose:
        print(f"vae-tf: training the {data.name!r} probe on {len(images)} "
              f"images ({epochs} epochs, cached at {path})", flush=True)
    start = time.time()
    probe = train_probe(images, attributes, seed=seed, epochs=epochs,
                        verbose=2 if verbose else 0)
    probe.save(path)
    if verbose:
        print(f"vae-tf: probe ready in {time.time() - start:.0f} s",
              flush=True)
    return probe


def _training_set(data, max_images: int):
    split = data.train if data.train.images is not None else data.validation
    images = split.images[:max_images]
    attributes = {k: np.asarray(v)[:max_images]
                  for k, v in split.attributes.items()}
    return images, attributes


def probe_path(data, seed: int = 0, epochs: int = DEFAULT_EPOCHS,
               max_images: int = DEFAULT_MAX_IMAGES) -> str:
    """Where `probe_for` caches the probe of `data`: its name holds a
    fingerprint of the training images, the seed, epochs and version."""
    key = fingerprint(*_training_set(data, max_images))
    safe_name = "".join(c if c.isalnum() else "_" for c in data.name)[:40]
    return os.path.join(
        cache_dir(), "probes",
        f"{safe_name}-{key}-s{seed}-e{epochs}-v{PROBE_VERSION}.keras",
    )


def _adopt(path: str, search) -> None:
    """Copies a shipped probe named like `path` into the cache (if the
    cache has none), atomically."""
    if os.path.isfile(path) and os.path.isfile(path + ".json"):
        return
    name = os.path.basename(path)
    for folder in search:
        shipped = os.path.join(folder, name)
        if os.path.isfile(shipped) and os.path.isfile(shipped + ".json"):
            for suffix in ("", ".json"):
                with open(shipped + suffix, "rb") as f:
                    io_utils.atomic_write_bytes(path + suffix, f.read())
            return


def probe_scores(probe: Probe, images, attributes) -> dict[str, dict]:
    """Per factor, how well the probe reads `images` against `attributes`.

    Discrete factors: `accuracy` and `recall` (binary: of the positives;
    categorical: mean per-class recall). Continuous: `r2`.
    """
    predicted = probe.predict(images)
    truth = _targets(probe.factors, attributes)
    out = {}
    for f in probe.factors:
        if f.is_discrete:
            out[f.name] = class_scores(truth[f.name], predicted[f.name], f)
        else:
            t = truth[f.name][:, 0] * f.std + f.mean
            resid = np.mean((predicted[f.name] - t) ** 2)
            out[f.name] = {"r2": float(1 - resid / max(np.var(t), 1e-12))}
    return out


def class_scores(truth: np.ndarray, predicted: np.ndarray,
                 factor: Factor) -> dict[str, float]:
    """`accuracy` and `recall` (binary: positives; else per-class mean)."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    accuracy = float(np.mean(truth == predicted))
    if factor.kind == "binary":
        positives = truth == 1
        recall = float(np.mean(predicted[positives] == 1)) if positives.any() \
            else float("nan")
    else:
        recalls = [np.mean(predicted[truth == c] == c)
                   for c in range(factor.classes) if (truth == c).any()]
        recall = float(np.mean(recalls))
    return {"accuracy": accuracy, "recall": recall}


def find_factor(probe: Probe, name: str) -> Optional[Factor]:
    return next((f for f in probe.factors if f.name == name), None)
