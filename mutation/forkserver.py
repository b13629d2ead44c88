"""A pytest fork server for mutation testing: imports TensorFlow once.

Each cosmic-ray mutant runs the module's test command in a new process, and
importing TensorFlow and Keras is most of a short test run (measured: 10.8 s
per `tests/layers` run in a fork of a warm process vs 17.5 s cold). The
server imports the heavy libraries (never vae_tf, which is what cosmic-ray
mutates), then forks one child per request; the child imports vae_tf fresh
from the mutated tree and runs `pytest.main`.

    python mutation/forkserver.py serve SOCKET &     # run.sh does this
    python mutation/forkserver.py run SOCKET -- -x -q tests/layers

`run` prints the child's pytest output and exits with its exit code, like
`python -m pytest` would. Linux only (fork).
"""

import json
import os
import socket
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
                code = pytest.main(request["args"])
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(int(code))
            os.close(fd)
            _, status = os.waitpid(pid, 0)
            reply = {"code": os.waitstatus_to_exitcode(status), "log": log}
            conn.sendall((json.dumps(reply) + "\n").encode())


def run(path: str, args: list) -> int:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    request = {"cwd": os.getcwd(), "args": args,
               "env": {"TF_CPP_MIN_LOG_LEVEL": "3"}}
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
        rest = sys.argv[3:]
        sys.exit(run(sys.argv[2], rest[1:] if rest[:1] == ["--"] else rest))
