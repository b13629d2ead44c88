"""Soak: the exported decoder under sustained concurrent load, as TF
Serving runs it (by hand; a short version runs in the suite,
`tests/export/test_soak.py`).

    python benchmarks/soak.py                      # the shipped faces model
    python benchmarks/soak.py --run RUN --export BASE/NAME_decoder

The version is loaded with the C++ loader's Python twin
(`tf.compat.v1.saved_model.loader.load`) into one TF1 session built from
the platform config (`serving/platform_config.txt`: its session config,
and its batching rules applied per request by
`vae_tf.export.fresh_load.ServerSession`). `--threads` client threads
send `--requests` Predict requests of `z` with 1-`--max-batch` rows; a
share `--malformed` of them is malformed, in turn: another dtype
(float64), another shape (one latent dimension too many), NaN in `z`
(refused by the exported signature's finite-input check,
`vae_tf.export.finite_inputs`).
In front of the session, the checks TF Serving makes before
`Session::Run` (`vae_tf.export.predict_checks`: the signature's input
names; then Session::Run's dtype check, "Expects arg[0] to be float but
double is provided", never a cast).

Printed: requests per outcome, the largest difference of any well-formed
answer from the Keras decoder's (each request is one of `--pool` payloads
whose Keras outputs are computed first), what each malformed kind got,
latency p50/p99, and resident memory after warm-up (the first quarter
of the requests), its peak after that, at the end and at every tenth.
Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KINDS = ("dtype", "shape", "nan")


def rss_mib() -> float:
    """This process's resident memory (Linux /proc), MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """One version's `serving_default` in a TF1 session, behind TF
    Serving's request checks."""

    def __init__(self, version_dir: str, platform_config: str):
        import tensorflow as tf

        from vae_tf.export.fresh_load import ServerSession
        from vae_tf.export.platform_config import read_platform_config

        served = read_platform_config(platform_config)
        graph = tf.Graph()
        with graph.as_default():
            sess = tf.compat.v1.Session(graph=graph,
                                        config=served.session_config)
            meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"],
                                                        version_dir)
        self.session = ServerSession(sess, meta, served.batching_rules)
        sig = meta.signature_def["serving_default"]
        self.inputs = {k: tf.dtypes.as_dtype(v.dtype)
                       for k, v in sig.inputs.items()}

    def predict(self, inputs: dict) -> dict:
        """The outputs, or raises as TF Serving answers an error."""
        import tensorflow as tf

        from vae_tf.export.predict_checks import check_inputs

        check_inputs({k: tf.dtypes.as_dtype(v.dtype)
                      for k, v in inputs.items()}, self.inputs)
        return self.session.run("serving_default", inputs)


def _reason(error: Exception) -> str:
    """The line of `error` a client reads: a TF error's first line is
    "Graph execution error:", its op's message follows."""
    lines = [line.strip() for line in str(error).splitlines()]
    lines = [line for line in lines
             if line and line != "Graph execution error:"]
    return (lines or [type(error).__name__])[0][:200]


def soak(server: Server, decoder, *, threads: int = 32,
         requests: int = 20000, malformed: float = 0.01, pool: int = 64,
         max_batch: int = 64, seed: int = 0, progress=None) -> dict:
    """Runs the load; returns the figures (see the module docstring)."""
    rng = np.random.default_rng(seed)
    latent = decoder.input_shape[-1]
    payloads = []
    for _ in range(pool):
        z = rng.standard_normal((int(rng.integers(1, max_batch + 1)),
                                 latent)).astype(np.float32)
        payloads.append((z, decoder.predict(z, verbose=0)))
    every = max(int(round(1 / malformed)), 1) if malformed else 0
    plan = rng.integers(0, pool, requests)
    lock = threading.Lock()
    state = {"next": 0, "max_diff": 0.0, "ok": 0, "wrong": 0,
             "latency": [], "malformed": {k: {"errors": 0, "answered": 0,
                                              "non_finite": 0}
                                          for k in KINDS},
             "unexpected": [], "rss_warm": None, "rss_trace": [],
             "rss_peak": 0.0}
    # Warm-up: a quarter of the requests (measured: resident memory rises
    # for the first ~40% as 32 threads' allocator arenas fill, then stays
    # flat; see benchmarks/README.md).
    warm_at = max(requests // 4, 1)

    def one(index: int) -> None:
        z, expected = payloads[plan[index]]
        kind = (KINDS[(index // every) % len(KINDS)]
                if every and index % every == every - 1 else None)
        if kind == "dtype":
            z = z.astype(np.float64)
        elif kind == "shape":
            z = np.concatenate([z, z[:, :1]], axis=1)
        elif kind == "nan":
            z = z.copy()
            z[0, 0] = np.nan
        start = time.perf_counter()
        try:
            out = server.predict({"z": z})["image"]
            error = None
        except Exception as err:  # what the server would answer
            out, error = None, err
        took = time.perf_counter() - start
        with lock:
            if kind is None:
                state["latency"].append(took)
                if error is not None:
                    state["unexpected"].append(f"{type(error).__name__}: "
                                               f"{error}"[:200])
                    return
                diff = float(np.max(np.abs(out - expected)))
                state["max_diff"] = max(state["max_diff"], diff)
                state["ok" if diff <= 1e-5 else "wrong"] += 1
                return
            record = state["malformed"][kind]
            if error is not None:
                record["errors"] += 1
                record.setdefault("first_error", _reason(error))
            else:
                record["answered"] += 1
                record["non_finite"] += int(not np.all(np.isfinite(out)))

    def worker() -> None:
        while True:
            with lock:
                index = state["next"]
                if index >= requests:
                    return
                state["next"] += 1
                if index == warm_at:
                    state["rss_warm"] = rss_mib()
                if index % max(requests // 10, 1) == 0:
                    state["rss_trace"].append(round(rss_mib()))
                if index > warm_at:
                    state["rss_peak"] = max(state["rss_peak"], rss_mib())
            one(index)
            if progress and index % 1000 == 999:
                progress(index + 1)

    start = time.perf_counter()
    pool_threads = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool_threads:
        t.start()
    for t in pool_threads:
        t.join()
    wall = time.perf_counter() - start
    latency = np.array(state["latency"]) * 1e3
    return {
        "requests": requests, "threads": threads, "wall_s": round(wall, 1),
        "well_formed_ok": state["ok"], "well_formed_wrong": state["wrong"],
        "max_abs_diff": state["max_diff"],
        "unexpected_errors": state["unexpected"][:5],
        "unexpected_error_count": len(state["unexpected"]),
        "malformed": state["malformed"],
        "latency_ms_p50": round(float(np.percentile(latency, 50)), 2),
        "latency_ms_p99": round(float(np.percentile(latency, 99)), 2),
        "rss_mib_after_warmup": round(state["rss_warm"], 1),
        "rss_mib_end": round(rss_mib(), 1),
        "rss_mib_peak_after_warmup": round(max(state["rss_peak"],
                                               rss_mib()), 1),
        "rss_mib_every_tenth": state["rss_trace"],
    }


def failures(result: dict) -> list[str]:
    """The soak's checks that failed (empty: all held). TF Serving checks
    no values before Session::Run: the NaN requests are refused by the
    signature itself (`vae_tf.export.finite_inputs`)."""
    found = []
    if result["well_formed_wrong"] or result["unexpected_error_count"]:
        found.append("a well-formed request was answered wrongly or "
                     "refused")
    for kind in KINDS:
        if result["malformed"][kind]["answered"]:
            found.append(f"a malformed ({kind}) request was answered")
    # Growth: the end against the end of warm-up (a leak keeps growing);
    # the peak in between is printed too (one large batch per thread).
    growth = result["rss_mib_end"] / result["rss_mib_after_warmup"] - 1
    if growth > 0.05:
        found.append(f"resident memory grew {growth:.1%} after warm-up")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default=os.path.join(REPO, "saved_models",
                                                      "faces"))
    parser.add_argument("--export", default=os.path.join(
        REPO, "saved_models", "faces_decoder"))
    parser.add_argument("--platform-config", default=os.path.join(
        REPO, "serving", "platform_config.txt"))
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--malformed", type=float, default=0.01)
    parser.add_argument("--max-batch", type=int, default=64)
    args = parser.parse_args()

    from vae_tf.export.layout import resolve_version_dir
    from vae_tf.runs import Run

    version = resolve_version_dir(args.export)
    print(f"soak: {version} in a TF1 session with {args.platform_config}; "
          f"{args.threads} threads, {args.requests:,} requests of 1-"
          f"{args.max_batch} rows, {args.malformed:.0%} malformed",
          flush=True)
    result = soak(Server(version, args.platform_config),
                  Run(args.run).models.decoder, threads=args.threads,
                  requests=args.requests, malformed=args.malformed,
                  max_batch=args.max_batch,
                  progress=lambda n: print(f"  {n:,} requests", flush=True))
    print("RESULT " + json.dumps(result))
    failed = failures(result)
    for line in failed:
        print(f"soak: FAILED: {line}")
    if not failed:
        print("soak: every check held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
