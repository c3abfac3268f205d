#!/usr/bin/env bash
# `make test`: lint, every Molecule scenario, every pytest suite and the quick
# benchmark. Steps run two at a time (TEST_JOBS, default 2): every step is
# namespaced (its own container names, network, ports and state directory), and
# most of a step's time is spent waiting on containers, so two share two cores
# well. The longest steps start first. Each step writes its own log; its result
# line, and the end of its log when it fails, are printed as it finishes. Every
# step runs even when another failed; the exit code and the closing summary line
# report them all.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
logs="${root}/.cache/test-logs"
results="${logs}/results"
lanes="${TEST_JOBS:-2}"
rm -rf "$results"
mkdir -p "$logs" "$results"

step() {
  local name="$1"
  shift
  local log="${logs}/${name//\//_}.log"
  local started=$SECONDS status
  "$@" >"$log" 2>&1
  status=$?
  # One step prints at a time, so a failure's log tail stays in one piece.
  exec {lock}>"${results}/.print"
  flock "$lock"
  if [[ $status -eq 0 ]]; then
    printf '=== %s: PASSED in %ss\n' "$name" $((SECONDS - started))
    : >"${results}/${name//\//_}.passed"
  else
    printf '\n=== %s: FAILED in %ss (log: %s); its last 150 lines:\n' "$name" $((SECONDS - started)) "$log"
    tail -n 150 "$log" | sed 's/^/  | /'
    printf '=== end of %s\n\n' "$name"
    printf '%s\n' "$name" >"${results}/${name//\//_}.failed"
  fi
  flock -u "$lock"
}

# Containers of an earlier, interrupted run would collide with this one.
docker ps -aq --filter name=^sod- | xargs -r docker rm -f >/dev/null

# Longest first (minutes on 2 cores, from the last full run), so the two lanes
# end close together.
steps=(
  "pytest|pytest tests"
  "molecule/e2e|molecule test -s e2e"
  "molecule/security|molecule test -s security"
  "molecule/streamlit_app|molecule test -s streamlit_app"
  "molecule/front_door|molecule test -s front_door"
  "molecule/tmux_service|molecule test -s tmux_service"
  "bench-quick|make --no-print-directory -o setup bench QUICK=1"
  "molecule/miniconda|molecule test -s miniconda"
  "lint|make --no-print-directory -o setup lint"
)
# Every other scenario (ec2_launch, and one added without a line above) after them.
for scenario in $(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort); do
  listed=false
  for entry in "${steps[@]}"; do [[ $entry == "molecule/${scenario}|"* ]] && listed=true; done
  $listed || steps+=("molecule/${scenario}|molecule test -s ${scenario}")
done

printf '=== %d steps, %d at a time; logs in %s\n' "${#steps[@]}" "$lanes" "$logs"
for entry in "${steps[@]}"; do
  while (($(jobs -rp | wc -l) >= lanes)); do wait -n; done
  name="${entry%%|*}"
  read -ra command <<<"${entry#*|}"
  printf '=== %s: started\n' "$name"
  step "$name" "${command[@]}" &
done
wait

printf '\n'
passed=$(find "$results" -name '*.passed' | wc -l)
failed=$(find "$results" -name '*.failed' | wc -l)
for name in $(cat "$results"/*.failed 2>/dev/null); do printf 'failed step: %s\n' "$name"; done
printf 'steps: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 && $((passed + failed)) -eq ${#steps[@]} ]]
