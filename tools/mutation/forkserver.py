"""A pytest fork server for mutation testing: imports TensorFlow once.

Each cosmic-ray mutant runs the module's test command in a new process, and
importing TensorFlow and Keras is most of a short test run (measured: 10.8 s
per `tests/layers` run in a fork of a warm process vs 17.5 s cold). The
server imports the heavy libraries (never vae_tf, which is what cosmic-ray
mutates), then forks one child per request; the child imports vae_tf fresh
from the mutated tree and runs `pytest.main`.

    python tools/mutation/forkserver.py serve SOCKET &   # run.sh does this
    python tools/mutation/forkserver.py run SOCKET -- -x -q tests/layers
    python tools/mutation/forkserver.py run SOCKET --map MAP.json -- \\
        -x tests/layers

With `--map` (from coverage_map.py) only the tests that executed the
mutated lines at HEAD run (in the test process or a subprocess it
started); a mutant on lines that no test runs survives without a run.
With `--timeout S` the fork is ended after S seconds (run.sh passes 90% of
the toml's timeout, so the server is never left waiting on a mutant that
loops forever).

`run` prints the child's pytest output and exits with its exit code, like
`python -m pytest` would. Linux only (fork).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile


def serve(path: str) -> None:
    import keras  # noqa: F401  (warm imports shared by every fork)
    import numpy  # noqa: F401
    import pytest
    import tensorflow  # noqa: F401

    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile().readline())
            fd, log = tempfile.mkstemp(prefix="forkserver.", suffix=".log")
            pid = os.fork()
            if pid == 0:  # child: a fresh test run in the request's tree
                server.close()
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.chdir(request["cwd"])
                sys.path.insert(0, request["cwd"])
                os.environ.update(request.get("env", {}))
                # A mutant that never ends must not block the server (it
                # serves one run at a time): SIGALRM ends the fork, which
                # reports a nonzero code, i.e. the mutant is killed.
                signal.alarm(int(request.get("timeout") or 0))
                # In this fork, not in xdist workers (setup.cfg's -n 2).
                code = pytest.main(["-n", "0", *request["args"]])
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(int(code))
            os.close(fd)
            _, status = os.waitpid(pid, 0)
            reply = {"code": os.waitstatus_to_exitcode(status), "log": log}
            conn.sendall((json.dumps(reply) + "\n").encode())


def changed_lines(module: str) -> list:
    """`path:line` keys (HEAD numbering) of the lines the mutant changed."""
    diff = subprocess.run(
        ["git", "diff", "-U0", "HEAD", "--", module], check=True,
        capture_output=True, text=True).stdout
    keys, path = [], None
    for line in diff.splitlines():
        if line.startswith("--- a/"):
            path = line[len("--- a/"):]
        elif line.startswith("@@"):
            old = line.split()[1][1:]  # "-start,count" -> "start,count"
            start, _, count = old.partition(",")
            count = int(count) if count else 1
            first = int(start)
            keys += [f"{path}:{n}" for n in range(first, first + max(count, 1))]
    return keys


def select(args: list, map_path: str) -> list:
    """`args` with its test paths replaced by the tests that ran the mutated
    lines at HEAD, quickest first (see coverage_map.py): all of the
    command's tests when a line ran at import time or nothing changed, and
    none when no test ran any mutated line (no test can then fail)."""
    with open(map_path) as f:
        mapping = json.load(f)
    seconds = mapping["seconds"]
    options, rest = [], iter(args)
    for arg in rest:
        if arg in ("-p", "-k", "-m"):
            options += [arg, next(rest)]
        elif arg.startswith("-"):
            options.append(arg)
    keys = changed_lines(mapping["module"])
    tests = set() if keys else set(seconds)
    for key in keys:
        contexts = mapping["lines"].get(key, [])
        if "" in contexts:
            tests = set(seconds)  # every test of the command
            break
        tests.update(contexts)
    if not tests:
        return []
    return options + sorted(tests, key=lambda t: (seconds.get(t, 0.0), t))


def run(path: str, args: list, map_path: str = None,
        timeout: float = 0) -> int:
    if map_path:
        args = select(args, map_path)
        if not args:
            print("no test of the command runs the mutated lines "
                  "(coverage_map.py): survived without a run")
            return 0
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    request = {"cwd": os.getcwd(), "args": args,
               "env": {"TF_CPP_MIN_LOG_LEVEL": "3"}, "timeout": timeout}
    client.sendall((json.dumps(request) + "\n").encode())
    reply = json.loads(client.makefile().readline())
    with open(reply["log"]) as f:
        sys.stdout.write(f.read())
    os.unlink(reply["log"])
    code = reply["code"]
    return code if code >= 0 else 128 - code  # killed by a signal


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        rest, map_path, timeout = sys.argv[3:], None, 0
        while rest[:1] in (["--map"], ["--timeout"]):
            if rest[0] == "--map":
                map_path = rest[1]
            else:
                timeout = float(rest[1])
            rest = rest[2:]
        sys.exit(run(sys.argv[2], rest[1:] if rest[:1] == ["--"] else rest,
                     map_path, timeout))
