#!/usr/bin/env bash
# Mutation testing of the core modules with cosmic-ray, run by hand (slow:
# measured 5-60 s per mutant on 2 cores; 19 mutants in gaussian, 216 in
# schedules, 248 in losses, 90 in models, 374 in layers/, 364 in training,
# 531 in generate, 576 in samplers, 883 in metrics/: hours per module).
#
#   tools/mutation/run.sh schedules gaussian   # some modules
#   tools/mutation/run.sh                      # all of tools/mutation/*.toml
#
# cosmic-ray edits the module in place while it runs, so this works in a
# throw-away git worktree of HEAD (your checkout is never touched) and
# prints each module's report. Sessions:
# tools/mutation/sessions/<module>.sqlite.
# Each mutant's `python -m pytest ...` runs as a fork of a process that has
# TensorFlow imported already (tools/mutation/forkserver.py; ~40% less
# time), and only the tests that executed the mutated lines at HEAD run,
# quickest first (tools/mutation/coverage_map.py records them per module
# first, subprocess and tf.function lines included); a line run at import
# time gets the whole test command, a line run by no test none (the mutant
# survives unrun). After adding tests,
# `python tools/mutation/recheck.py [--map] <module>` reruns only the
# surviving mutants against them.
#
#   tools/mutation/run.sh --resume metrics     # finish a stopped run
#
# --resume keeps the session (the module must be unchanged since its .rev),
# forgets the jobs that never ran a test (stopped runs record the rest as
# "incompetent"; a crash of the fork server's client before pytest started
# shows as a kill with no output) and runs those and the pending ones with
# the tests at HEAD. (Edit this file by writing a copy and renaming it over:
# bash reads a running script as it goes.)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
resume=0
if [ "${1:-}" = "--resume" ]; then resume=1; shift; fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=($(ls tools/mutation/*.toml | xargs -n1 basename | sed 's/\.toml$//'))
fi
work=$(mktemp -d /tmp/vae_tf_mutation.XXXXXX)
git worktree add -f --detach "$work" HEAD >/dev/null
export TF_CPP_MIN_LOG_LEVEL=3
sock="$work.sock"
python "$top/tools/mutation/forkserver.py" serve "$sock" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$sock" "$work".*.toml "$work".*.map.*;
      git -C "$top" worktree remove --force "$work"' EXIT
for _ in $(seq 120); do [ -S "$sock" ] && break; sleep 0.5; done
mkdir -p tools/mutation/sessions
for name in "${names[@]}"; do
  session="$top/tools/mutation/sessions/$name.sqlite"
  if [ $resume = 1 ]; then
    module=$(python -c "import tomllib, sys
print(tomllib.load(open(sys.argv[1], 'rb'))['cosmic-ray']['module-path'])" \
             "tools/mutation/$name.toml")
    rev=$(cat "tools/mutation/sessions/$name.rev")
    git diff --quiet "$rev" HEAD -- "$module" || {
      echo "$module changed since the session ($rev): run it afresh"; exit 1; }
    python - "$session" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
gone = db.execute(
    "DELETE FROM work_results WHERE test_outcome = 'INCOMPETENT' "
    "OR worker_outcome != 'NORMAL' "  # enum names, as SQLAlchemy stores
    "OR (test_outcome = 'KILLED' AND COALESCE(output, '') = '')").rowcount
db.commit()
print(f"resume: {gone} jobs that ran no test are pending again")
PY
  else
    rm -f "$session"  # init keeps old results in an existing session
    # the run's code, for recheck.py
    git -C "$work" rev-parse HEAD > "$top/tools/mutation/sessions/$name.rev"
  fi
  config="$work.$name.toml"
  map="$work.$name.map.json"  # which tests run each line (coverage_map.py)
  (cd "$work" && python "$top/tools/mutation/coverage_map.py" "$name" "$map" \
     > "$work.$name.map.log" 2>&1) || { cat "$work.$name.map.log"; exit 1; }
  limit=$(python -c "import tomllib, sys
print(0.9 * tomllib.load(open(sys.argv[1], 'rb'))['cosmic-ray']['timeout'])" \
          "tools/mutation/$name.toml")
  runner="python $top/tools/mutation/forkserver.py run $sock"
  sed "s|python -m pytest|$runner --timeout $limit --map $map --|" \
    "tools/mutation/$name.toml" > "$config"
  if [ $resume = 1 ]; then
    (cd "$work" && cosmic-ray exec "$config" "$session")
  else
    (cd "$work" && cosmic-ray init "$config" "$session" \
       && cosmic-ray exec "$config" "$session")
  fi
  echo "== $name"
  cr-report "$session" --show-pending | tail -3
done
