"""Plants hand-written bugs one at a time and shows which tests catch them.

    python tools/mutation/plant.py vae_tf/evaluation/metrics/mig.py \\
        tests/evaluation/metrics/test_mig.py \\
        -- "/ np.maximum" "* np.maximum"  "h > 0" "h != 0"

Each OLD NEW pair replaces the one occurrence of OLD in FILE, runs
`python -m pytest -x -q -p no:randomly TESTS`, prints KILLED (with the
first failing test) or SURVIVED, and restores FILE. The tests must pass
unplanted first, or nothing is planted: a test that fails anyway proves
nothing. FILE is restored in a `finally`, but a SIGKILL (e.g. `timeout
-s KILL`) skips that: check `git diff` after an interrupted run.
"""

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))  # tools/mutation/ -> the repository


def _pytest(tests: str):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        f"{sys.executable} -m pytest -x -q -p no:randomly {tests}",
        shell=True, capture_output=True, text=True, env=env, cwd=TOP)


def main(argv: list) -> int:
    if len(argv) < 5 or argv[2] != "--" or len(argv[3:]) % 2:
        print(__doc__)
        return 2
    path, tests, pairs = argv[0], argv[1], argv[3:]
    with open(path) as f:
        original = f.read()
    for old in pairs[::2]:
        if original.count(old) != 1:
            print(f"{old!r} occurs {original.count(old)} times in {path}; "
                  "give a unique piece of code")
            return 2
    baseline = _pytest(tests)
    if baseline.returncode:
        print("The tests fail unplanted; nothing planted:\n"
              + baseline.stdout[-1500:])
        return 1
    try:
        for old, new in zip(pairs[::2], pairs[1::2]):
            with open(path, "w") as f:
                f.write(original.replace(old, new))
            run = _pytest(tests)
            failed = [ln for ln in run.stdout.splitlines()
                      if ln.startswith(("FAILED", "ERROR"))]
            verdict = "KILLED" if run.returncode else "SURVIVED"
            detail = failed[:1] or run.stdout.strip().splitlines()[-1:]
            print(f"{verdict} {old!r} -> {new!r}: {' '.join(detail)}",
                  flush=True)
    finally:
        with open(path, "w") as f:
            f.write(original)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
