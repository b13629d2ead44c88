"""What `vae-tf explore` computes, without the web page: attribute
directions in the latent space of a trained run, and the image of a code.

A face is its code: a base code z (one slider per latent dimension, from
the run's sampler, an encoded image or z = 0) plus `strength * vector`
for every attribute slider. An attribute's vector is the mean code of
the images that have it minus the mean code of those that do not
(`vae_tf.generate.code_difference`): binary attributes (glasses, beard)
split at their two values, continuous ones (smile, skin tone, pose) at
their median (`vae_tf.generate.attribute_labels`, as `vae-tf edit`
does), and categorical ones with a few integer values (hair colour) give
one vector per value, that value against the rest.

A conditional run's face is also its condition (issue 29): one value per
conditioned factor (`specs`), which the decoder, the encoder and the
sampler take beside the code; the page shows them as controls. Its
attribute vectors come from codes encoded under each image's own
factors, for the attributes it is not conditioned on.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from vae_tf import generate
from vae_tf.data.conditions import value_names
from vae_tf.generate.interpolation import slerp
from vae_tf._internal.pixels import as_float_images, as_uint8_images

# Integer attributes with at most this many values get a vector per value.
MAX_CATEGORIES = 8
# Images of the data split used to find the attribute vectors.
VECTOR_IMAGES = 2000
# A continuous attribute counts as dragged along by an edit when the
# probe's reading moves by at least this many of the data's stds.
DRIFT_STDS = 0.25


@dataclasses.dataclass
class Explorer:
    """A run's decoder, encoder, sampler and attribute vectors.

    vectors: slider name -> direction `(latent_dim,)`; one slider per
        binary or continuous attribute (`smile`), one per value of a
        categorical one (`hair_color=2`, or the value's name when the data
        set names them).
    limits: `(latent_dim, 2)` low and high end of each latent slider: the
        data's codes span them (whole numbers, at least [-3, 3]); a VAE's
        codes are often far wider than N(0, 1) in the dimensions it uses.
    probe: the data set's probe (`vae_tf.evaluation.probe`), which reads
        the shown face's attributes back (`readings`), or None.
    specs: a conditional run's `ConditionSpec`s (`()` otherwise); the
        methods that decode, encode or draw then take a `condition`,
        `{factor: value}` (a class value or its name, or a number; missing
        factors take `default_condition`'s).
    """

    encoder: object
    decoder: object
    sampler: object
    vectors: dict[str, np.ndarray]
    image_shape: tuple[int, int, int]
    limits: np.ndarray
    probe: Optional[object] = None
    specs: tuple = ()

    @property
    def latent_dim(self) -> int:
        return int(self.sampler.latent_dim)

    @classmethod
    def from_run(cls, run, split: str = "validation",
                 probe: bool = True) -> "Explorer":
        """From a `vae_tf.runs.Run`: its models, sampler, and vectors from
        up to `VECTOR_IMAGES` images of `split` with their attributes;
        with `probe`, the run's probe (`run_probe`) reads faces back."""
        from vae_tf.data.conditions import model_inputs

        data = getattr(run.data, split)
        images = run.split_images(split)[:VECTOR_IMAGES]
        attributes = {k: np.asarray(v)[:len(images)]
                      for k, v in data.attributes.items()}
        specs = tuple(run.config.specs())
        z = run.models.encoder.predict(
            model_inputs(specs, as_float_images(images), attributes),
            batch_size=256, verbose=0)[0]
        free = {k: v for k, v in attributes.items()
                if k not in {s.name for s in specs}}
        return cls(run.models.encoder, run.models.decoder, run.sampler(),
                   attribute_vectors(z, free, value_names(run.config.data)),
                   tuple(run.config.input_shape), latent_limits(z),
                   run_probe(run) if probe else None, specs)

    def default_condition(self) -> dict[str, object]:
        """The condition the page opens with: each class factor's first
        value (by name where named), each continuous factor's mean."""
        return {s.name: (s.value_names[0] if s.value_names else s.values[0])
                if s.kind == "class" else round(s.mean, 2)
                for s in self.specs}

    def _encoded(self, condition, rows: int = 1) -> dict:
        """`{factor: (rows, width)}` of `condition` (see the class)."""
        given = dict(self.default_condition(), **(condition or {}))
        out = {}
        for spec in self.specs:
            value = given[spec.name]
            if isinstance(value, str) or spec.kind == "class":
                value = spec.value_of(str(value))
            out[spec.name] = spec.encode(np.full(rows, value))
        return out

    def start_code(self) -> np.ndarray:
        """The face the page opens on: a draw of the run's sampler (seed 0),
        a typical face, where z = 0 often decodes to none."""
        return self.random_code(0)

    def readings(self, image) -> dict[str, str]:
        """What the probe reads off one uint8 image `(H, W, C)`: factor ->
        text (a class name, or a value with 2 decimals); {} without a
        probe or when the image has another shape than the probe's."""
        if self.probe is None or tuple(np.shape(image)) != tuple(
                self.probe.image_shape):
            return {}
        predicted = self.probe.predict(np.asarray(image)[None])
        names = value_names_of(self.probe)
        out = {}
        for factor in self.probe.factors:
            value = predicted[factor.name][0]
            if factor.kind == "binary":
                out[factor.name] = "yes" if value else "no"
            elif factor.is_discrete:
                labels = names.get(factor.name, ())
                out[factor.name] = (labels[value] if value < len(labels)
                                    else str(int(value)))
            else:
                out[factor.name] = f"{float(value):+.2f}"
        return out

    def drift(self, before, after, moved=()) -> dict[str, str]:
        """What an edit dragged along: the attributes not in `moved`
        (slider names; `hair_color=red` counts as `hair_color`) that the
        probe reads differently on `after` than on `before` (two uint8
        images `(H, W, C)`): a class that changed (`"brown -> black"`), or
        a continuous value that moved by at least `DRIFT_STDS` of the
        data's standard deviation (`"+0.41 -> -0.12 (0.9 std)"`). {}
        without a probe."""
        if self.probe is None or tuple(np.shape(after)) != tuple(
                self.probe.image_shape):
            return {}
        moved = {name.split("=")[0] for name in moved}
        read = self.probe.predict(np.stack([before, after]))
        names = value_names_of(self.probe)
        out = {}
        for factor in self.probe.factors:
            if factor.name in moved:
                continue
            a, b = read[factor.name]
            if factor.is_discrete and a != b:
                labels = names.get(factor.name, ())
                text = [labels[v] if v < len(labels) else str(int(v))
                        for v in (a, b)]
                out[factor.name] = f"{text[0]} -> {text[1]}"
            elif not factor.is_discrete:
                stds = abs(float(b) - float(a)) / max(factor.std, 1e-12)
                if stds >= DRIFT_STDS:
                    out[factor.name] = (f"{float(a):+.2f} -> {float(b):+.2f}"
                                        f" ({stds:.1f} std)")
        return out

    def code(self, base, strengths: dict[str, float]) -> np.ndarray:
        """`base` `(latent_dim,)` plus each slider's strength times its
        vector."""
        z = np.asarray(base, np.float32).reshape(self.latent_dim).copy()
        for name, strength in strengths.items():
            z += np.float32(strength) * self.vectors[name]
        return z

    def image(self, z, condition=None) -> np.ndarray:
        """The decoded image of one code, uint8 `(H, W, C)` (a conditional
        run's under `condition`)."""
        z = np.asarray(z, np.float32).reshape(1, self.latent_dim)
        if self.specs:
            x = self.decoder.predict({"z": z, **self._encoded(condition)},
                                     verbose=0)[0]
        else:
            x = generate.decoder_fn(self.decoder)(z)[0]
        return as_uint8_images(x)

    def random_code(self, seed: int, condition=None) -> np.ndarray:
        """One draw of the run's sampler (under `condition`)."""
        return self.sampler.sample(1, seed=int(seed), conditions=(
            self._encoded(condition) if self.specs else None))[0]

    def encode(self, image, condition=None) -> np.ndarray:
        """`z_mean` of any `(H, W, C)` image (uint8 or [0, 1]), resized to
        the model's input (bilinear) and given its channel count (a
        conditional run's under `condition`)."""
        x = as_float_images(np.asarray(image))
        if x.ndim == 2:
            x = x[..., None]
        h, w, c = self.image_shape
        x = _match_channels(x, c)
        if x.shape[:2] != (h, w):
            x = _resize(x, h, w)
        if self.specs:
            return self.encoder.predict(
                {"image": x[None], **self._encoded(condition)},
                verbose=0)[0][0]
        return generate.encoder_fn(self.encoder)(x[None])[0]

    def between(self, image_a, image_b, t: float,
                condition=None) -> np.ndarray:
        """The decoded point at fraction `t` of the slerp between the codes
        of two images (a conditional run's under `condition`)."""
        z = slerp(self.encode(image_a, condition),
                  self.encode(image_b, condition), np.array([float(t)]))[0]
        return self.image(z, condition)


def run_probe(run):
    """The probe a run's faces are read with: the data set's cached one
    (`probe_for`: the one a pretrained preset ships, else trained on first
    use, about a minute for faces); None for data without attributes."""
    from vae_tf.evaluation.probe import probe_for

    try:
        return probe_for(run.data, verbose=True, search=(run.dir,))
    except ValueError:  # no attributes a probe can learn
        return None


def value_names_of(probe) -> dict[str, tuple[str, ...]]:
    """Value names for the probe's categorical factors (faces' hair)."""
    if any(f.name == "hair_color" for f in probe.factors):
        return value_names("faces")
    return {}


def latent_limits(z: np.ndarray, floor: float = 3.0) -> np.ndarray:
    """`(K, 2)`: per dimension, the whole numbers around the codes `z`
    `(n, K)`, and at least `[-floor, floor]`."""
    low = np.minimum(np.floor(z.min(axis=0)), -floor)
    high = np.maximum(np.ceil(z.max(axis=0)), floor)
    return np.stack([low, high], axis=1).astype(np.float32)


def attribute_vectors(z: np.ndarray, attributes: dict[str, np.ndarray],
                      names: Optional[dict] = None) -> dict[str, np.ndarray]:
    """Slider name -> latent direction for each usable attribute (see the
    module docstring), from the codes `z` `(n, K)` of images with these
    attributes (arrays `(n,)`); attributes that do not split the images
    in two (a single value, or most values tied at the top) are skipped."""
    names = names or {}
    vectors = {}
    for name in sorted(attributes):
        values = np.asarray(attributes[name]).reshape(-1)
        distinct = np.unique(values)
        if len(distinct) < 2:
            continue
        if (len(distinct) == 2 or not np.issubdtype(values.dtype, np.integer)
                or len(distinct) > MAX_CATEGORIES):
            try:
                vectors[name] = generate.code_difference(
                    z, generate.attribute_labels(values))
            except ValueError:  # over half the values tie at the top
                pass
            continue
        labels = names.get(name, ())
        for value in distinct:
            label = (labels[value] if 0 <= value < len(labels)
                     else str(int(value)))
            vectors[f"{name}={label}"] = generate.code_difference(
                z, values == value)
    return vectors


def _match_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """Grey, RGB or RGBA pixels `(H, W, C)` as `channels` (1 or 3)."""
    if x.shape[-1] == channels:
        return x
    if channels == 1:
        return x[..., :3].mean(-1, keepdims=True)
    if x.shape[-1] == 1:
        return np.repeat(x, 3, -1)
    return x[..., :3]  # RGBA: drop alpha


def _resize(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear resize of `(H, W, C)` float pixels (Pillow per channel)."""
    from PIL import Image

    channels = [
        np.asarray(Image.fromarray(x[..., i].astype(np.float32)).resize(
            (w, h), Image.BILINEAR))
        for i in range(x.shape[-1])]
    return np.stack(channels, axis=-1)
