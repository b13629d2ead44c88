"""Which tests run each line of a module: the map behind test selection.

A mutant on a line that no test of a test command executes cannot change
that command's outcome through it, so `forkserver.py run --map` runs only the
tests that executed the mutated lines at HEAD (and the whole command for a
line run at import or collection time, which belongs to no single test).
This script records that map once per module and commit:

    python tools/mutation/coverage_map.py generate OUT.json  # generate.toml

It measures the tree it is run in (the current directory: run.sh runs it in
its worktree of HEAD).

It runs the module's test command under `coverage` with one dynamic
context per pytest node id (switched around each test's setup, call and
teardown; the subprocesses a test starts are measured too and credited to
it) and writes `{"module": path, "rev": HEAD, "lines": {"path:line": [node
ids]}, "seconds": {node id: seconds}}`, where `[""]` marks lines run at
import time (module constants, class bodies). A module-level function's
signature and decorators map to the tests that ran its body, and every
line of a multi-line statement to the tests of the statement. A line
absent from the map ran in no test: `forkserver.py` then runs nothing and
the mutant survives. The times let `forkserver.py` run the quickest tests
first, so that a killed mutant stops early under `-x`.

Killed verdicts from selected tests are as sound as the full command's (a
test failed under the mutant). A line run only by a module-scoped fixture is
credited to the first test that used it, so a survivor can be an artefact
of selection: `recheck.py` reruns survivors with the whole test command
(or, with `--map`, with a map rebuilt at HEAD).
"""

import ast
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile
import tomllib

import coverage
import pytest
from coverage.config import CoverageConfig
from coverage.data import CoverageData
from coverage.parser import PythonParser

HERE = os.path.dirname(os.path.abspath(__file__))


def test_args(name: str) -> tuple[str, list]:
    """(module path, pytest arguments) of `tools/mutation/<name>.toml`."""
    with open(os.path.join(HERE, f"{name}.toml"), "rb") as f:
        config = tomllib.load(f)["cosmic-ray"]
    words = shlex.split(config["test-command"])
    if words[:3] != ["python", "-m", "pytest"]:
        raise SystemExit(f"{name}.toml: test-command must start with "
                         f"'python -m pytest', not {words[:3]}")
    return config["module-path"], words[3:]


class _Contexts:
    """A pytest plugin naming the coverage context after each test, timing
    each test (setup, call and teardown), and pointing the coverage of the
    subprocesses a test starts (`python -m vae_tf.cli ...`) at data files of
    its own, so that their lines are credited to it too."""

    def __init__(self, cov: coverage.Coverage, tmp: str):
        self.cov = cov
        self.tmp = tmp
        self.seconds = {}
        self.subprocess_lines = {}  # node id -> {path: set(lines)}
        self._count = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self._count += 1
        base = os.path.join(self.tmp, f"t{self._count}")
        config = CoverageConfig.deserialize(self.cov.config.serialize())
        config.data_file = base
        os.environ["COVERAGE_PROCESS_CONFIG"] = config.serialize()
        self.cov.switch_context(item.nodeid)
        yield
        self.cov.switch_context("")
        for path in glob.glob(base + ".*"):
            data = CoverageData(basename=path)
            data.read()
            seen = self.subprocess_lines.setdefault(item.nodeid, {})
            for measured in data.measured_files():
                seen.setdefault(measured, set()).update(
                    data.lines(measured) or ())

    def pytest_runtest_logreport(self, report):
        self.seconds[report.nodeid] = (self.seconds.get(report.nodeid, 0.0)
                                       + report.duration)


def _expand(lines: dict, path: str, rel: str) -> None:
    """Credits a statement's tests to all of its lines (coverage reports a
    multi-line statement on its first line only), and the lines of a
    module-level function's signature and decorators (run at import, key
    `""`) to the tests that ran its body: a mutated default or decorator
    argument acts only when the function is called. A signature whose body
    no test runs maps to no test. The body of a `tf.function` maps to the
    tests that ran its `def` (AutoGraph hides it from coverage)."""
    parser = PythonParser(filename=path)
    parser.parse_source()
    with open(path) as f:
        source = f.read()
    for line in range(1, source.count("\n") + 2):
        first = parser.first_line(line)
        if first != line and f"{rel}:{first}" in lines:
            lines.setdefault(f"{rel}:{line}", lines[f"{rel}:{first}"])
    functions = [node for node in ast.walk(ast.parse(source))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for node in functions:
        # AutoGraph runs a converted copy of a `tf.function`'s body, which
        # coverage never sees: credit its unseen lines to the tests that
        # defined it (all tests, for a module-level one).
        if not any("function" in ast.unparse(d) for d in node.decorator_list):
            continue
        defined = lines.get(f"{rel}:{node.lineno}")
        for line in range(node.body[0].lineno, node.end_lineno + 1):
            if defined and f"{rel}:{line}" not in lines:
                lines[f"{rel}:{line}"] = defined
    for node in functions:
        if "" not in lines.get(f"{rel}:{node.lineno}", ()):
            continue  # a nested def: its lines run when its parent runs
        body = set()
        for line in range(node.body[0].lineno, node.end_lineno + 1):
            body.update(lines.get(f"{rel}:{line}", ()))
        body.discard("")
        head = min([node.lineno] + [d.lineno for d in node.decorator_list])
        for line in range(head, node.body[0].lineno):
            if body:
                lines[f"{rel}:{line}"] = sorted(body)
            else:
                lines.pop(f"{rel}:{line}", None)


def build(name: str, top: str) -> dict:
    module, args = test_args(name)
    # The selection must hold for any failure, so record every test.
    args = [a for a in args if a not in ("-x", "--exitfirst")]
    source = os.path.join(top, module)
    include = [os.path.join(source, "*")] if os.path.isdir(source) else [source]
    with tempfile.TemporaryDirectory() as tmp:
        rc = os.path.join(tmp, "coveragerc")
        with open(rc, "w") as f:  # patch=subprocess needs a config file
            f.write("[run]\npatch = subprocess\nparallel = true\n")
        cov = coverage.Coverage(include=include, branch=False, config_file=rc,
                                data_file=os.path.join(tmp, "main"))
        plugin = _Contexts(cov, tmp)
        cov.start()
        try:
            # One process (not setup.cfg's -n 2 workers): the contexts
            # are switched in this one.
            code = pytest.main(["-n", "0", *args], plugins=[plugin])
        finally:
            cov.stop()
            os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
        if code != 0:
            raise SystemExit(f"the test command of {name} fails at HEAD "
                             f"({code})")
        data = cov.get_data()
        measured = {}
        for path in data.measured_files():
            measured[path] = {line: set(contexts) for line, contexts
                              in data.contexts_by_lineno(path).items()}
        for test, files in plugin.subprocess_lines.items():
            for path, seen in files.items():
                for line in seen:
                    measured.setdefault(path, {}).setdefault(
                        line, set()).add(test)
    lines = {}
    for path, by_line in measured.items():
        rel = os.path.relpath(path, top)
        for line, contexts in by_line.items():
            lines[f"{rel}:{line}"] = sorted(contexts)
        _expand(lines, path, rel)
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
