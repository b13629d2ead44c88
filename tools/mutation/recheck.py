"""Re-runs the surviving mutants of a cosmic-ray session against the tests
at HEAD, to show which new tests kill them (cosmic-ray has no "retest the
survivors" command, and a full rerun costs hours).

    python tools/mutation/recheck.py models   # sessions/models.sqlite
    python tools/mutation/recheck.py --map training   # covering tests only
    python tools/mutation/recheck.py --map --at dfa1fda --skip-lines 92 \
        --known old.log training

`--at REV` rechecks with the tests of REV instead of HEAD (for a module
changed since its run: the tests of the last commit before the change);
`--skip-lines` leaves out the survivors on those lines of the module
(each must be listed in README.md with the reason it is equivalent, e.g.
an annotation that is never evaluated); `--known LOG` takes the verdicts
of an earlier, interrupted recheck from its printed log.

By default each survivor reruns the module's whole test command. With
`--map` it reruns only the tests that execute its lines at HEAD
(coverage_map.py, built first in the worktree; subprocesses and tf.function
bodies included): as sound for a survivor, and minutes instead of hours for
training.py, whose whole command trains dozens of models.

Works in a throw-away git worktree of HEAD. It refuses if the mutated module
changed since the session's run (`tools/mutation/sessions/<name>.rev`,
written by run.sh): the mutants' occurrence numbers would point elsewhere.
Prints each survivor as killed or still surviving, with its diff, and the
module's score before (the session) and after (with this recheck).
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))  # tools/mutation
TOP = os.path.dirname(os.path.dirname(HERE))  # the repository


def git(*args, cwd=TOP):
    return subprocess.run(["git", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def _known_verdicts(log_path: str) -> dict:
    """`(operator, occurrence) -> "KILLED"|"SURVIVED"` from a recheck log."""
    found = {}
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(("KILLED: ", "SURVIVED: ")):
                verdict, rest = line.split(": ", 1)
                operator, occurrence = rest.split()[:2]
                found[(operator, int(occurrence.lstrip("#")))] = verdict
    return found


def main(name: str, use_map: bool = False, at: str = "HEAD",
         skip_lines: frozenset = frozenset(), known: dict = None) -> int:
    config = tomllib.load(open(os.path.join(HERE, f"{name}.toml"),
                               "rb"))["cosmic-ray"]
    session = os.path.join(HERE, "sessions", f"{name}.sqlite")
    rev = open(os.path.join(HERE, "sessions",
                            f"{name}.rev")).read().strip()
    known = known or {}
    changed = git("diff", "--stat", rev, at, "--", config["module-path"])
    if changed.strip():
        print(f"{config['module-path']} changed since the session ({rev}):\n"
              f"{changed}Rerun tools/mutation/run.sh {name} instead.")
        return 2
    dump = subprocess.run(["cosmic-ray", "dump", session], check=True,
                          capture_output=True, text=True).stdout
    jobs = [json.loads(line) for line in dump.splitlines() if line.strip()]
    done = [(j, r) for j, r in jobs if r is not None]
    survivors = [j for j, r in done if r.get("test_outcome") == "survived"]
    skipped = [j for j in survivors
               if j["mutations"][0]["start_pos"][0] in skip_lines]
    survivors = [j for j in survivors if j not in skipped]
    if skipped:
        print(f"{len(skipped)} survivors on lines {sorted(skip_lines)} left "
              "out (listed as equivalent)", flush=True)
    print(f"{name}: {len(jobs)} mutants, {len(done)} run, "
          f"{len(survivors)} survived; rechecking them at {at}", flush=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    killed = 0
    with tempfile.TemporaryDirectory() as work:
        tree = os.path.join(work, "tree")
        git("worktree", "add", "-f", "--detach", tree, at)
        sock = os.path.join(work, "fork.sock")  # as run.sh: warm imports
        server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "forkserver.py"),
             "serve", sock], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not os.path.exists(sock):
            time.sleep(0.2)
        select = ""
        if use_map:
            map_path = os.path.join(work, "map.json")
            subprocess.run([sys.executable, os.path.join(
                HERE, "coverage_map.py"), name, map_path],
                cwd=tree, env=env, check=True, capture_output=True)
            select = f"--map {map_path} "
        command = config["test-command"].replace(
            "python -m pytest",
            f"{sys.executable} {HERE}/forkserver.py run {sock} "
            f"{select}--")
        try:
            for job in survivors:
                m = job["mutations"][0]
                verdict = known.get((m["operator_name"], m["occurrence"]))
                if verdict is not None:
                    killed += verdict == "KILLED"
                    print(f"{verdict}: {m['operator_name']} "
                          f"#{m['occurrence']} at {m['module_path']}:"
                          f"{m['start_pos'][0]} (from the earlier log)",
                          flush=True)
                    continue
                subprocess.run(["cosmic-ray", "apply", m["module_path"],
                                m["operator_name"], str(m["occurrence"])],
                               cwd=tree, check=True, capture_output=True)
                diff = git("diff", "-U0", cwd=tree)
                result = subprocess.run(shlex.split(command),
                                        cwd=tree, env=env,
                                        capture_output=True, text=True)
                git("checkout", "--", ".", cwd=tree)
                outcome = "KILLED" if result.returncode else "SURVIVED"
                killed += bool(result.returncode)
                lines = [ln for ln in diff.splitlines()
                         if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
                print(f"{outcome}: {m['operator_name']} "
                      f"#{m['occurrence']} at {m['module_path']}:"
                      f"{m['start_pos'][0]}\n    " + "\n    ".join(lines),
                      flush=True)
        finally:
            server.kill()
            git("worktree", "remove", "--force", tree)
    before = len(done) - len(survivors) - len(skipped)
    print(f"{name}: killed {before} / {len(done)} in the session, "
          f"{before + killed} / {len(done)} with the tests at {at}; "
          f"{len(survivors) - killed} still survive, {len(skipped)} left "
          "out as equivalent")
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--map", action="store_true")
    parser.add_argument("--at", default="HEAD")
    parser.add_argument("--skip-lines", default="")
    parser.add_argument("--known", default=None)
    a = parser.parse_args()
    sys.exit(main(
        a.name, use_map=a.map, at=a.at,
        skip_lines=frozenset(int(n) for n in a.skip_lines.split(",") if n),
        known=_known_verdicts(a.known) if a.known else None))
