"""Which tests run each line of a module: the map behind test selection.

A mutant on a line that no test of a test command executes cannot change
that command's outcome through it, so `forkserver.py run --map` runs only the
tests that executed the mutated lines at HEAD (and the whole command for a
line run at import or collection time, which belongs to no single test).
This script records that map once per module and commit:

    python mutation/coverage_map.py generate OUT.json    # reads generate.toml

It measures the tree it is run in (the current directory: run.sh runs it in
its worktree of HEAD).

It runs the module's test command under `coverage` with one dynamic
context per pytest node id (switched around each test's setup, call and
teardown) and writes `{"module": path, "rev": HEAD, "lines": {"path:line":
[node ids]}, "seconds": {node id: seconds}}`, where `[""]` marks
import-time lines. The times let `forkserver.py` run the quickest tests
first, so that a killed mutant stops early under `-x`.

Killed verdicts from selected tests are as sound as the full command's (a
test failed under the mutant). A line run only by a module-scoped fixture is
credited to the first test that used it, so a survivor can be an artefact
of selection: confirm survivors with `recheck.py`, which reruns each with
the whole test command.
"""

import json
import os
import shlex
import subprocess
import sys
import tomllib

import coverage
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_args(name: str) -> tuple[str, list]:
    """(module path, pytest arguments) of `mutation/<name>.toml`."""
    with open(os.path.join(HERE, f"{name}.toml"), "rb") as f:
        config = tomllib.load(f)["cosmic-ray"]
    words = shlex.split(config["test-command"])
    if words[:3] != ["python", "-m", "pytest"]:
        raise SystemExit(f"{name}.toml: test-command must start with "
                         f"'python -m pytest', not {words[:3]}")
    return config["module-path"], words[3:]


class _Contexts:
    """A pytest plugin naming the coverage context after each test, and
    timing each test (setup, call and teardown)."""

    def __init__(self, cov: coverage.Coverage):
        self.cov = cov
        self.seconds = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.cov.switch_context(item.nodeid)
        yield
        self.cov.switch_context("")

    def pytest_runtest_logreport(self, report):
        self.seconds[report.nodeid] = (self.seconds.get(report.nodeid, 0.0)
                                       + report.duration)


def build(name: str, top: str) -> dict:
    module, args = test_args(name)
    # The selection must hold for any failure, so record every test.
    args = [a for a in args if a not in ("-x", "--exitfirst")]
    source = os.path.join(top, module)
    include = [os.path.join(source, "*")] if os.path.isdir(source) else [source]
    cov = coverage.Coverage(include=include, data_file=None, branch=False)
    plugin = _Contexts(cov)
    cov.start()
    code = pytest.main(args, plugins=[plugin])
    cov.stop()
    if code != 0:
        raise SystemExit(f"the test command of {name} fails at HEAD ({code})")
    data = cov.get_data()
    lines = {}
    for path in data.measured_files():
        rel = os.path.relpath(path, top)
        for line, contexts in data.contexts_by_lineno(path).items():
            lines[f"{rel}:{line}"] = sorted(contexts)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=top, check=True,
                         capture_output=True, text=True).stdout.strip()
    return {"module": module, "rev": rev, "lines": lines,
            "seconds": plugin.seconds}


def main() -> None:
    name, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.getcwd())  # measure this tree's vae_tf, not an
    # installed one (run.sh runs this in its worktree)
    result = build(name, os.getcwd())
    if not result["lines"]:
        raise SystemExit(f"{name}: no line of {result['module']} ran under "
                         "coverage; is vae_tf imported from another tree?")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, out)
    print(f"{name}: {len(result['lines'])} lines mapped -> {out}")


if __name__ == "__main__":
    main()
