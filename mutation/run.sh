#!/usr/bin/env bash
# Mutation testing of the core modules with cosmic-ray, run by hand (slow:
# measured 5-30 s per mutant on 2 cores; 19 mutants in gaussian, 216 in
# schedules, 248 in losses, 374 in layers/, so hours for the whole core).
#
#   mutation/run.sh schedules gaussian     # some modules
#   mutation/run.sh                        # all of mutation/*.toml
#
# cosmic-ray edits the module in place while it runs, so this works in a
# throw-away git worktree of HEAD (your checkout is never touched) and
# prints each module's report. Sessions: mutation/sessions/<module>.sqlite.
# After adding tests, `python mutation/recheck.py <module>` reruns only the
# surviving mutants against them.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=($(ls mutation/*.toml | xargs -n1 basename | sed 's/\.toml$//'))
fi
work=$(mktemp -d /tmp/vae_tf_mutation.XXXXXX)
git worktree add -f --detach "$work" HEAD >/dev/null
trap 'git -C "$top" worktree remove --force "$work"' EXIT
mkdir -p mutation/sessions
export TF_CPP_MIN_LOG_LEVEL=3
for name in "${names[@]}"; do
  session="$top/mutation/sessions/$name.sqlite"
  rm -f "$session"  # init keeps old results in an existing session
  git rev-parse HEAD > "$top/mutation/sessions/$name.rev"  # for recheck.py
  (cd "$work" && cosmic-ray init "$top/mutation/$name.toml" "$session" \
     && cosmic-ray exec "$top/mutation/$name.toml" "$session")
  echo "== $name"
  cr-report "$session" --show-pending | tail -3
done
