"""FLOP counting and the CPU's ceilings per precision, for the benchmarks.

`python benchmarks/flops.py` measures the matmul and conv ceilings in
float32 and bfloat16 as the other benchmarks do (waiting for a quiet
machine, several sizes, best of 10) and prints the float32 one beside the
CPU's theoretical peak (cores x clock x FLOP per cycle). A run's "% of
ceiling" divides by the ceiling of the precision it computes in (the
faster of matmul and conv, `ceiling_for`): with AVX512_BF16, bfloat16 has
its own, higher one."""

import os
import time

import keras
import numpy as np
import tensorflow as tf


def _layers(model):
    stack, out = [model], []
    while stack:
        layer = stack.pop()
        inner = getattr(layer, "layers", None)
        if inner:
            stack.extend(inner)
        else:
            out.append(layer)
    return out


def forward_flops_per_image(model: keras.Model) -> float:
    """Multiply-adds x 2 of the Dense/Conv2D/Conv2DTranspose layers of
    `model` (nested models included) for one input image."""
    total = 0.0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, c_in = layer.input.shape
            kh, kw = layer.kernel_size
            total += 2.0 * h * w * c_in * kh * kw * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            total += 2.0 * h * w * c_out * kh * kw * c_in
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


def training_flops_per_image(model: keras.Model) -> float:
    """Forward + backward: the usual 3x the forward pass."""
    return 3.0 * forward_flops_per_image(model)


# float32 FLOPs per cycle per core of the widest FMA units: two FMA pipes
# of 8 (AVX2) or 16 (AVX-512) lanes, 2 FLOPs per FMA. AMD Zen 4 runs
# AVX-512 on 256-bit pipes (two halves per instruction), so its peak is
# the AVX2 one; Zen 1 has 128-bit pipes.
_FLOPS_PER_CYCLE = {"avx512": 64, "avx2": 32, "zen4": 32, "zen1": 16}


def cpu_info() -> dict:
    """Model, family, nominal clock (MHz, as /proc/cpuinfo reports it; a
    VM shows the base clock, turbo can run above it) and vector flags."""
    info = {"model": "unknown", "vendor": "", "family": 0, "model_id": 0,
            "mhz": 0.0, "flags": set(), "cores": os.cpu_count() or 1}
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        return info
    first = text.split("\n\n")[0]
    for line in first.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name":
            info["model"] = value
        elif key == "vendor_id":
            info["vendor"] = value
        elif key == "cpu family":
            info["family"] = int(value)
        elif key == "model":
            info["model_id"] = int(value)
        elif key == "cpu MHz":
            info["mhz"] = float(value)
        elif key == "flags":
            info["flags"] = set(value.split())
    return info


def theoretical_peak_gflops(info: dict) -> tuple[float, str]:
    """cores x nominal clock x float32 FLOP/cycle, and how it was made."""
    flags, amd = info["flags"], info["vendor"] == "AuthenticAMD"
    if amd and info["family"] == 23 and info["model_id"] < 0x30:
        kind = "zen1"
    elif amd and "avx512f" in flags:
        kind = "zen4"
    elif "avx512f" in flags:
        kind = "avx512"
    elif "avx2" in flags and "fma" in flags:
        kind = "avx2"
    else:
        return 0.0, "unknown vector units"
    per_cycle = _FLOPS_PER_CYCLE[kind]
    peak = info["cores"] * info["mhz"] / 1e3 * per_cycle
    return peak, (f"{info['cores']} cores x {info['mhz'] / 1e3:.2f} GHz x "
                  f"{per_cycle} FLOP/cycle ({kind})")


def busy_cores(seconds: float = 1.0) -> float:
    """Cores' worth of CPU time the whole machine used over `seconds`
    (from /proc/stat), while this process sleeps: ~0 on a quiet machine."""
    def read():
        fields = open("/proc/stat", encoding="ascii").readline().split()[1:]
        values = [int(v) for v in fields]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)
    try:
        busy0, total0 = read()
        time.sleep(seconds)
        busy1, total1 = read()
    except OSError:
        return 0.0
    cores = os.cpu_count() or 1
    return cores * (busy1 - busy0) / max(total1 - total0, 1)


def wait_until_quiet(limit: float = 0.1, patience: float = 60.0) -> float:
    """Waits (up to `patience` s) until other work uses under `limit`
    cores; returns the last reading. A ceiling measured beside other work
    is low (91.5 GFLOP/s once, where a quiet run gives ~218)."""
    deadline = time.monotonic() + patience
    load = busy_cores()
    while load > limit and time.monotonic() < deadline:
        load = busy_cores()
    return load


def _best_rate(fn, args, flops: float, repeats: int) -> float:
    """GFLOP/s of the fastest of `repeats` calls of `fn(*args)`."""
    fn(*args).numpy()  # trace and warm up
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args).numpy()
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def _matmul_rates(sizes, repeats: int, dtype: str) -> dict:
    @tf.function
    def mm(a, b):
        return tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32))

    rates = {}
    for n in sizes:
        a = tf.cast(tf.random.normal((n, n)), dtype)
        b = tf.cast(tf.random.normal((n, n)), dtype)
        rates[n] = _best_rate(mm, (a, b), 2.0 * n**3, repeats)
    return rates


# 3x3 stride-1 convolutions (batch, side, channels in = out) of the sizes
# the conv VAEs run: 2 x batch x side^2 x 9 x c^2 FLOPs each.
CONV_SHAPES = ((64, 32, 64), (64, 16, 128), (64, 8, 256))


def _conv_rates(shapes, repeats: int, dtype: str) -> dict:
    @tf.function
    def conv(x, k):
        return tf.reduce_sum(tf.cast(
            tf.nn.conv2d(x, k, 1, "SAME"), tf.float32))

    rates = {}
    for batch, side, c in shapes:
        x = tf.cast(tf.random.normal((batch, side, side, c)), dtype)
        k = tf.cast(tf.random.normal((3, 3, c, c)), dtype)
        flops = 2.0 * batch * side * side * 9 * c * c
        rates[f"{batch}x{side}x{side}x{c}"] = _best_rate(conv, (x, k), flops,
                                                         repeats)
    return rates


def matmul_ceiling_gflops(sizes=(1024, 2048, 4096), repeats: int = 10,
                          report: bool = False,
                          dtype: str = "float32") -> float:
    """Attainable GFLOP/s of this CPU in `dtype`: the best over `sizes` of
    the best of `repeats` timed n x n matmuls (2 n^3 FLOPs each) through
    TensorFlow, measured once the machine is quiet. `report` prints the
    quiet check, each size and (float32) the theoretical peak beside it."""
    load = wait_until_quiet()
    results = _matmul_rates(sizes, repeats, dtype)
    ceiling = max(results.values())
    if report:
        info = cpu_info()
        peak, how = theoretical_peak_gflops(info)
        quiet = "quiet" if load <= 0.1 else "NOT QUIET"
        print(f"CPU: {info['model']} (family {info['family']}, model "
              f"{info['model_id']}), {info['cores']} cores; other work "
              f"before measuring: {load:.2f} cores ({quiet})")
        for n, gflops in results.items():
            print(f"  {dtype} matmul {n}x{n}: {gflops:.1f} GFLOP/s "
                  f"(best of {repeats})")
        line = f"{dtype} ceiling {ceiling:.1f} GFLOP/s"
        if peak and dtype == "float32":
            line += (f"; theoretical peak {peak:.1f} GFLOP/s = {how}: "
                     f"{100 * ceiling / peak:.0f}%")
            if ceiling > peak:
                line += (" (above the peak at the nominal clock: the cores "
                         f"run at >= {info['mhz'] * ceiling / peak / 1e3:.2f}"
                         " GHz, turbo)")
        print(line)
    return ceiling


def ceilings(repeats: int = 10, report: bool = False,
             precisions=("float32", "bfloat16")) -> dict:
    """`{(op, precision): GFLOP/s}` for op `matmul` and `conv`, measured
    one after the other once the machine is quiet (a precision the CPU
    cannot run is left out)."""
    load = wait_until_quiet()
    out, detail = {}, {}
    for precision in precisions:
        try:
            mm = _matmul_rates((1024, 2048, 4096), repeats, precision)
            cv = _conv_rates(CONV_SHAPES, repeats, precision)
        except (tf.errors.OpError, TypeError) as err:
            print(f"  {precision}: not measured ({type(err).__name__})")
            continue
        out[("matmul", precision)] = max(mm.values())
        out[("conv", precision)] = max(cv.values())
        detail[precision] = (mm, cv)
    if report:
        info = cpu_info()
        quiet = "quiet" if load <= 0.1 else "NOT QUIET"
        print(f"CPU: {info['model']}, {info['cores']} cores, bf16 flags: "
              f"{sorted(f for f in info['flags'] if 'bf16' in f) or 'none'};"
              f" other work before measuring: {load:.2f} cores ({quiet})")
        print("\n| op | size | " + " | ".join(
            f"{p} GFLOP/s" for p in detail) + " |")
        print("| --- | --- |" + " ---: |" * len(detail))
        first = next(iter(detail.values()))
        for k, op in enumerate(("matmul", "conv")):
            for size in first[k]:
                print(f"| {op} | {size} | " + " | ".join(
                    f"{detail[p][k][size]:.1f}" for p in detail) + " |")
        print("\nceilings (best size, best of "
              f"{repeats}): " + ", ".join(
                  f"{op} {p} {g:.1f}" for (op, p), g in out.items()))
        if ("matmul", "bfloat16") in out:
            ratio = {op: out[(op, "bfloat16")] / out[(op, "float32")]
                     for op in ("matmul", "conv")}
            print(f"bfloat16 / float32: matmul {ratio['matmul']:.2f}x, "
                  f"conv {ratio['conv']:.2f}x")
    return out


def ceiling_for(precision: str, measured: dict) -> float:
    """The denominator of a run's "% of ceiling": the best rate measured
    in the precision it computes in, matmul or 3x3 conv, whichever is
    higher (float16 and float32 runs use float32's on a CPU)."""
    dtype = "bfloat16" if precision == "bfloat16" else "float32"
    return max(measured[(op, dtype)] for op in ("matmul", "conv"))


if __name__ == "__main__":
    matmul_ceiling_gflops(report=True)
    print()
    ceilings(report=True)
