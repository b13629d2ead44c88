"""One SavedModel's `serving_default` in a TF1 session, TF Serving's path.

`tensorflow_model_server` loads a version with the C++ SavedModel loader
into a session built from the platform config's `session_config` and runs
each (batched) request with `Session::Run`; this worker does the same
through `tf.compat.v1.saved_model.loader.load` and a `make_callable`
runner, in a process of its own (TensorFlow's thread pools are per
process), and prints one `RESULT {json}` line. `serve.py` runs it for each
session config in turn; by hand:

    python benchmarks/serve_session.py /tmp/sm/vae_decoder/1 --in-flight 2

Batch 1: p50/p99 of single requests, one in flight. Batches 32, 256 and
1,024: images/s with `--in-flight` requests running at once (the
platform config's `num_batch_threads`: the batches a server runs at once).
"""

import argparse
import json
import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BATCHES = (32, 256, 1024)


def load_runner(path: str, config):
    """(runner(x) -> output, input shape without batch, output name)."""
    graph = tf.Graph()
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph, config=config)
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    sig = meta.signature_def["serving_default"]
    (name, info), = sig.inputs.items()
    out_name = sorted(sig.outputs)[0]
    runner = sess.make_callable(sig.outputs[out_name].name, [info.name])
    shape = [d.size for d in info.tensor_shape.dim][1:]
    return runner, shape, out_name


def latency_ms(runner, x, calls: int) -> tuple[float, float]:
    """p50, p99 of `calls` single calls (one in flight), in ms."""
    for _ in range(20):
        runner(x)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        runner(x)
        times.append(time.perf_counter() - start)
    return (float(np.percentile(times, 50)) * 1e3,
            float(np.percentile(times, 99)) * 1e3)


def images_per_second(runner, x, in_flight: int, seconds: float) -> float:
    """Images/s with `in_flight` threads calling `runner` for ~`seconds`."""
    runner(x)
    per_call = time.perf_counter()
    runner(x)
    per_call = time.perf_counter() - per_call
    calls = max(3, int(seconds / per_call / in_flight))

    def work():
        for _ in range(calls):
            runner(x)

    threads = [threading.Thread(target=work) for _ in range(in_flight)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(x) * calls * in_flight / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version_dir")
    parser.add_argument("--config-hex", default="",
                        help="serialized tf.compat.v1.ConfigProto as hex "
                        "(default: TensorFlow's default session)")
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--calls", type=int, default=1000,
                        help="batch-1 calls for p50/p99 (default 1000)")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="seconds per throughput batch size")
    args = parser.parse_args(argv)
    config = (tf.compat.v1.ConfigProto.FromString(
        bytes.fromhex(args.config_hex)) if args.config_hex else None)
    runner, shape, output = load_runner(args.version_dir, config)
    rng = np.random.default_rng(0)
    one = rng.uniform(size=(1, *shape)).astype(np.float32)
    p50, p99 = latency_ms(runner, one, args.calls)
    result = {"output": output, "p50": p50, "p99": p99}
    for batch in BATCHES:
        x = np.repeat(one, batch, axis=0)
        result[str(batch)] = images_per_second(
            runner, x, args.in_flight, args.seconds)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
