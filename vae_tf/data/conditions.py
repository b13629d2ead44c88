"""Conditions of a conditional VAE: which labelled factors a model is
given, and how their values become the model's inputs (issue 29's
`--condition`; the model and its exports build on this).

- A **class** factor (at most `MAX_CLASSES` distinct integer values:
  glasses, beard, hair_color, the Fashion-MNIST label, CelebA's 0/1
  attributes) is one-hot over its values, in sorted order.
- A **continuous** factor (smile, skin_tone, a shapes position) is
  standardised with the training split's mean and standard deviation.

`ConditionSpec`s are plain JSON (`to_dict` / `from_dict`), so a run can
save them and an app can encode conditions without the training data.
Values are given by name where the data set names them (faces' hair
colours): `parse_settings("glasses=1,beard=0,hair_color=red", specs)`.
TensorFlow-free.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Optional, Sequence

import numpy as np

from vae_tf.data.errors import DataError

# Integer factors with at most this many values are classes.
MAX_CLASSES = 20


class ConditionError(DataError):
    """A condition names no labelled factor, or a value is not valid."""


@dataclasses.dataclass(frozen=True)
class ConditionSpec:
    """One factor a conditional model is given.

    kind: `"class"` (one-hot over `values`) or `"continuous"`
        (`(value - mean) / std`).
    values: the class values, sorted; `value_names` their names, if any.
    """

    name: str
    kind: str
    values: tuple = ()
    value_names: tuple = ()
    mean: float = 0.0
    std: float = 1.0

    @property
    def width(self) -> int:
        """Columns of the encoded condition."""
        return len(self.values) if self.kind == "class" else 1

    def value_of(self, text: str):
        """A class value from its name or number, or a float; raises
        `ConditionError` naming the valid values."""
        if self.kind == "continuous":
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ConditionError(
                    f"{self.name} takes a number (its training values have "
                    f"mean {self.mean:.3g}, std {self.std:.3g}). Received: "
                    f"{self.name}={text!r}")
            return value
        if text in self.value_names:
            return self.values[self.value_names.index(text)]
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if number in self.values:
            return self.values[self.values.index(number)]
        raise ConditionError(
            f"{self.name} has no value {text!r}. Valid: "
            f"{', '.join(self._names())}")

    def encode(self, values) -> np.ndarray:
        """float32 `(n, width)` of `values` `(n,)`."""
        values = np.asarray(values).reshape(-1)
        if self.kind == "continuous":
            v = values.astype(np.float64)
            if not np.isfinite(v).all():
                raise ConditionError(f"{self.name} has NaN or Inf values.")
            return ((v - self.mean) / self.std).astype(np.float32)[:, None]
        index = np.searchsorted(self.values, values)
        index = np.clip(index, 0, len(self.values) - 1)
        bad = np.asarray(self.values)[index] != values
        if bad.any():
            raise ConditionError(
                f"{self.name} has value {values[bad][0].item()!r}, not one of "
                f"{', '.join(self._names())}.")
        return np.eye(len(self.values), dtype=np.float32)[index]

    def _names(self) -> list[str]:
        if self.value_names:
            return [f"{n} ({v})" for n, v in zip(self.value_names,
                                                 self.values)]
        return [str(v) for v in self.values]

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind,
                "values": list(self.values),
                "value_names": list(self.value_names),
                "mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d: Mapping) -> "ConditionSpec":
        return cls(d["name"], d["kind"], tuple(d.get("values", ())),
                   tuple(d.get("value_names", ())), float(d.get("mean", 0)),
                   float(d.get("std", 1)))


def read_specs(condition: Sequence[str],
               specs: Optional[Sequence[Mapping]]) -> list[ConditionSpec]:
    """The `ConditionSpec`s of a config's `condition` (factor names) and
    `condition_specs` (their dicts; `None`: not resolved, `[]` returned).

    Raises:
        ConditionError: the names are not distinct strings, a spec is
            malformed, or the specs name other factors.
    """
    if not isinstance(condition, (tuple, list)) or not condition or \
            not all(isinstance(n, str) and n for n in condition) or \
            len(set(condition)) != len(condition):
        raise ConditionError(
            "Expected `condition` to be a list of distinct factor names "
            f"such as ['glasses', 'hair_color']. Received: "
            f"condition={condition!r}")
    if specs is None:
        return []
    try:
        found = [ConditionSpec.from_dict(d) for d in specs]
    except (TypeError, KeyError, ValueError, AttributeError) as err:
        raise ConditionError(
            f"condition_specs is not a list of condition specs: {err!r}"
        ) from None
    if [s.name for s in found] != list(condition):
        raise ConditionError(
            f"condition_specs name {[s.name for s in found]}, condition "
            f"{list(condition)}: they must agree.")
    return found


def value_names(data_name: str) -> dict[str, tuple[str, ...]]:
    """Names of categorical attribute values, where the data set has them
    (faces: hair colours)."""
    if data_name == "faces":
        from vae_tf.data.faces import HAIR_COLORS

        return {"hair_color": tuple(HAIR_COLORS)}
    return {}


def condition_specs(names: Sequence[str],
                    attributes: Mapping[str, np.ndarray],
                    data_name: str) -> list[ConditionSpec]:
    """Specs of the factors `names` from a training split's attributes.

    Raises:
        ConditionError: the data set has no labelled factors, a name is
            not one of them (the message lists them), or a factor never
            varies.
    """
    available = sorted(k for k, v in attributes.items()
                       if np.asarray(v).ndim == 1)
    if not available:
        raise ConditionError(
            f"Data set {data_name!r} has no labelled factors, so a model "
            "cannot be conditioned on it. Labelled data: faces, shapes, "
            "fashion_mnist (label), folder:DIR with list_attr_celeba.txt, "
            "npz:FILE with 1-D arrays beside the images.")
    if not names:
        raise ConditionError(
            f"No factor named. {data_name!r} has: {', '.join(available)}")
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConditionError(
            f"Data set {data_name!r} has no factor "
            f"{', '.join(map(repr, unknown))}. Available: "
            f"{', '.join(available)}")
    if len(set(names)) != len(names):
        raise ConditionError(f"A factor is named twice: {list(names)}")
    names_of = value_names(data_name)
    return [_spec(n, np.asarray(attributes[n]), names_of.get(n, ()))
            for n in names]


def _spec(name: str, values: np.ndarray, names: tuple) -> ConditionSpec:
    distinct = np.unique(values)
    if len(distinct) < 2:
        raise ConditionError(
            f"Factor {name!r} takes one value only ({distinct[0]!r}) in "
            "the training split: it cannot condition anything.")
    integer = np.all(distinct == np.round(distinct))
    if integer and len(distinct) <= MAX_CLASSES:
        values_ = tuple(int(v) for v in distinct)
        labels = tuple(names[v] for v in values_) if names and all(
            0 <= v < len(names) for v in values_) else ()
        return ConditionSpec(name, "class", values_, labels)
    v = values.astype(np.float64)
    return ConditionSpec(name, "continuous", mean=float(v.mean()),
                         std=float(v.std()))


def encode_conditions(specs: Sequence[ConditionSpec],
                      attributes: Mapping[str, np.ndarray]
                      ) -> dict[str, np.ndarray]:
    """Factor name -> encoded `(n, width)` float32, for the model's named
    condition inputs."""
    return {s.name: s.encode(attributes[s.name]) for s in specs}


def model_conditions(specs: Sequence[ConditionSpec], attributes,
                     count: Optional[int] = None
                     ) -> Optional[dict[str, np.ndarray]]:
    """The encoded conditions `{factor: (n, width)}` of the first `count`
    rows of a split's `attributes`; `None` without `specs` (an
    unconditional model)."""
    if not specs:
        return None
    rows = {s.name: np.asarray(attributes[s.name])[:count] for s in specs}
    return encode_conditions(specs, rows)


def model_inputs(specs: Sequence[ConditionSpec], array, attributes,
                 main: str = "image"):
    """What the encoder (`main="image"`) or decoder (`main="z"`) of a
    model conditioned on `specs` takes for `array` (images or codes)
    whose rows carry `attributes`: the array itself without `specs`, else
    a dict of it and the encoded conditions of its first rows."""
    conditions = model_conditions(specs, attributes, len(array))
    if conditions is None:
        return array
    return {main: array, **conditions}


def parse_settings(text: str, specs: Sequence[ConditionSpec],
                   defaults: Optional[Mapping[str, object]] = None
                   ) -> dict[str, object]:
    """`"glasses=1,beard=0,hair_color=red"` -> {factor: value}, one value
    per conditioned factor; factors left out take `defaults` (else an
    error names them).

    Raises:
        ConditionError: a malformed item, an unknown factor or value, or
            a factor with no value.
    """
    by_name = {s.name: s for s in specs}
    out: dict[str, object] = dict(defaults or {})
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise ConditionError(
                f"Expected FACTOR=VALUE items separated by commas. "
                f"Received: {item!r}")
        if name not in by_name:
            raise ConditionError(
                f"The model is not conditioned on {name!r}. Its factors: "
                f"{', '.join(by_name)}")
        out[name] = by_name[name].value_of(value.strip())
    missing = [n for n in by_name if n not in out]
    if missing:
        raise ConditionError(
            f"No value for {', '.join(missing)}: set every factor the "
            f"model is conditioned on ({', '.join(by_name)}), e.g. "
            + ",".join(f"{s.name}={_example(s)}" for s in specs))
    return {n: out[n] for n in by_name}


def _example(spec: ConditionSpec) -> str:
    if spec.kind == "continuous":
        return f"{spec.mean:.2g}"
    return str(spec.value_names[0] if spec.value_names else spec.values[0])
