"""The package's import graph, read with `ast`: floors, cycles, sizes.

    python tools/import_graph.py [--root vae_tf] [--json]

Nodes are the modules of the package (a package is its `__init__`); an
arrow is an `import` or `from ... import` of another of its modules
anywhere in a file (function-level imports included, `if TYPE_CHECKING:`
blocks left out: annotations only). `from pkg import name` points at the
module `pkg.name` when there is one, else at `pkg`.

Prints: the number of floors (a module's floor is 1 + the highest floor
it imports; modules importing nothing of the package are on floor 1),
every import cycle (strongly connected components of more than one
module), the modules per floor, the top level's entries, the longest
files and functions. Exit status 1 if there is a cycle.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from typing import Iterator


def modules(root: str) -> dict[str, str]:
    """`{module name: file}` of every `.py` under the package `root`."""
    base = os.path.dirname(os.path.abspath(root))
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, base)[:-3].split(os.sep)
            if rel[-1] == "__init__":
                rel = rel[:-1]
            found[".".join(rel)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.AST]:
    """Import statements, skipping `if TYPE_CHECKING:` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                yield from _imports(child)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def _package_of(module: str, path: str) -> str:
    return module if path.endswith("__init__.py") else module.rpartition(
        ".")[0]


def edges(found: dict[str, str]) -> dict[str, set[str]]:
    """`{module: modules it imports}` within the package."""
    out = {m: set() for m in found}
    for module, path in found.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in _imports(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = node.module or ""
                if node.level:
                    parts = _package_of(module, path).split(".")
                    parts = parts[:len(parts) - node.level + 1]
                    source = ".".join(parts + ([source] if source else []))
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    targets.append(full if full in found else source)
            for target in targets:
                while target and target not in found:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    out[module].add(target)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each module's floor; modules in a cycle share their component's."""
    memo: dict[str, int] = {}
    visiting: set[str] = set()

    def floor(v):
        if v in memo:
            return memo[v]
        if v in visiting:  # a cycle: cut it here
            return 0
        visiting.add(v)
        value = 1 + max((floor(w) for w in graph[v]), default=0)
        visiting.discard(v)
        memo[v] = value
        return value

    return {v: floor(v) for v in sorted(graph)}


def longest_functions(found: dict[str, str], top: int = 5):
    """`[(lines, "file:function")]`, longest first."""
    sizes = []
    for path in found.values():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sizes.append((node.end_lineno - node.lineno + 1,
                              f"{path}:{node.name}"))
    return sorted(sizes, reverse=True)[:top]


def report(root: str) -> dict:
    found = modules(root)
    graph = edges(found)
    level = floors(graph)
    lines = {}
    for module, path in found.items():
        with open(path, encoding="utf-8") as f:
            lines[path] = sum(1 for _ in f)
    by_floor: dict[int, list[str]] = {}
    for module, value in level.items():
        by_floor.setdefault(value, []).append(module)
    return {
        "modules": len(found),
        "lines": sum(lines.values()),
        "floors": max(level.values(), default=0),
        "cycles": cycles(graph),
        "by_floor": {k: sorted(v) for k, v in sorted(by_floor.items())},
        "top_level": sorted(e for e in os.listdir(root)
                            if e != "__pycache__"),
        "longest_files": sorted(((n, p) for p, n in lines.items()),
                                reverse=True)[:5],
        "longest_functions": longest_functions(found),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="vae_tf")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = report(args.root)
    if args.json:
        print(json.dumps(result, indent=1))
        return 1 if result["cycles"] else 0
    print(f"{result['modules']} modules, {result['lines']} lines, "
          f"{result['floors']} floors, {len(result['cycles'])} cycle(s)")
    for component in result["cycles"]:
        print("  cycle: " + " <-> ".join(component))
    for value, names in reversed(list(result["by_floor"].items())):
        print(f"floor {value:2d}: {', '.join(names)}")
    print(f"top level ({len(result['top_level'])} entries): "
          f"{', '.join(result['top_level'])}")
    print("longest files: " + ", ".join(
        f"{p} {n}" for n, p in result["longest_files"]))
    print("longest functions: " + ", ".join(
        f"{name} {n}" for n, name in result["longest_functions"]))
    return 1 if result["cycles"] else 0


if __name__ == "__main__":
    sys.exit(main())
