"""Compute precision: `float32`, or Keras mixed `bfloat16` where the
hardware has bfloat16 arithmetic.

`VAEConfig.precision` is one of `PRECISIONS`; `"auto"` resolves to
`"bfloat16"` on a GPU or on a CPU with AVX512_BF16 or AMX-BF16 (read from
`/proc/cpuinfo`), else `"float32"`. Under `"bfloat16"` the convolution and
dense layers of the networks compute in bfloat16 with float32 weights
(`keras.mixed_precision` policy `mixed_bfloat16`); the latent heads, the
KL term, the sampling, the likelihood's parameters and scale, and every
loss stay float32, and so do the exported models' inputs and outputs.
benchmarks/README.md has the speed and quality measurements behind the
default.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

COMPUTE_PRECISIONS = ("float32", "bfloat16")  # what a model computes in
PRECISIONS = ("auto",) + COMPUTE_PRECISIONS  # what a config may ask for

# CPU flags (Linux /proc/cpuinfo names) for native bfloat16 arithmetic.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")

_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The first CPU's feature flags; empty where the file is unreadable
    (not Linux)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def has_bfloat16_hardware() -> bool:
    """Whether a GPU or the CPU's bfloat16 instructions are present."""
    if cpu_flags() & set(BF16_CPU_FLAGS):
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_precision(precision: str) -> str:
    """`"float32"` or `"bfloat16"` (`"auto"` decided by the hardware)."""
    if precision == "auto":
        return "bfloat16" if has_bfloat16_hardware() else "float32"
    return precision


@contextlib.contextmanager
def compute_precision(precision: str) -> Iterator[None]:
    """Layers created inside compute in `precision` (resolved: `float32`
    or `bfloat16`); the previous global Keras policy is restored after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
