#!/usr/bin/env bash
# `make test`: lint, every Molecule scenario, every pytest suite. Each step
# runs even when an earlier one failed; the exit code and the closing summary
# line report them all.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
logs="${root}/.cache/test-logs"
mkdir -p "$logs"
passed=0
failed=0
failures=()

step() {
  local name="$1"
  shift
  local started=$SECONDS
  printf '\n=== %s\n' "$name"
  if "$@" 2>&1 | tee "${logs}/${name//\//_}.log"; then
    passed=$((passed + 1))
    printf '=== %s: PASSED in %ss\n' "$name" $((SECONDS - started))
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '=== %s: FAILED in %ss (log: %s)\n' "$name" $((SECONDS - started)) "${logs}/${name//\//_}.log"
  fi
}

# Containers of an earlier, interrupted run would collide with this one.
docker ps -aq --filter name=^sod- | xargs -r docker rm -f >/dev/null

step lint make --no-print-directory lint
for scenario in $(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort); do
  step "molecule/${scenario}" molecule test -s "$scenario"
done
if compgen -G "tests/test_*.py" >/dev/null; then
  step pytest pytest tests
fi
# One short iteration of the benchmarks (make bench QUICK=1), so the harness cannot rot.
step bench-quick make --no-print-directory bench QUICK=1

printf '\n'
for name in "${failures[@]}"; do printf 'failed step: %s\n' "$name"; done
printf 'steps: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
