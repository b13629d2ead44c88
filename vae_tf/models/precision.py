"""Compute precision: `float32`, or Keras mixed precision where the
hardware computes faster in 16 bits.

`VAEConfig.precision` is one of `PRECISIONS`; `"auto"` resolves
(`resolve_precision`) to:

- `"bfloat16"` on a CPU with AVX512_BF16 or AMX-BF16 (read from
  `/proc/cpuinfo`) or on GPUs that all have bfloat16 arithmetic (compute
  capability 8.0 and up: Ampere, Hopper, ...);
- `"float16"` on GPUs with float16 tensor cores but no bfloat16 (compute
  capability 7.x: Volta, Turing), trained with loss scaling (Keras'
  `LossScaleOptimizer`, `vae_tf.models.compile_vae`), since float16's
  narrow exponent underflows small gradients;
- `"float32"` elsewhere (older GPUs, other CPUs).

Under a 16-bit precision the convolution and dense layers of the networks
compute in it with float32 weights (`keras.mixed_precision` policies
`mixed_bfloat16` / `mixed_float16`); the latent heads, the KL term, the
sampling, the likelihood's parameters and scale, and every loss stay
float32, and so do the exported models' inputs and outputs.
benchmarks/README.md has the speed and quality measurements behind the
default.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

# What a model computes in; exports offer float32 and bfloat16 (CPU
# serving has no fast float16), training all three.
COMPUTE_PRECISIONS = ("float32", "bfloat16", "float16")
EXPORT_PRECISIONS = ("float32", "bfloat16")
PRECISIONS = ("auto",) + COMPUTE_PRECISIONS  # what a config may ask for

# CPU flags (Linux /proc/cpuinfo names) for native bfloat16 arithmetic.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# GPU compute capabilities from which bfloat16 (8.0) and float16 tensor
# cores (7.0) are native.
BF16_GPU = (8, 0)
FP16_GPU = (7, 0)

_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16",
             "float16": "mixed_float16"}


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


def gpu_capabilities() -> list[tuple[int, int]]:
    """The compute capability of every visible GPU (`(0, 0)` where
    TensorFlow does not report one)."""
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu) or {}
        found.append(tuple(details.get("compute_capability") or (0, 0)))
    return found


def auto_precision() -> str:
    """What `"auto"` resolves to on this machine (module docstring). With
    GPUs, the precision all of them compute fast in."""
    gpus = gpu_capabilities()
    if gpus:
        if min(gpus) >= BF16_GPU:
            return "bfloat16"
        if min(gpus) >= FP16_GPU:
            return "float16"
        return "float32"
    if cpu_flags() & set(BF16_CPU_FLAGS):
        return "bfloat16"
    return "float32"


def resolve_precision(precision: str) -> str:
    """A `COMPUTE_PRECISIONS` name (`"auto"` decided by the hardware)."""
    if precision == "auto":
        return auto_precision()
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
