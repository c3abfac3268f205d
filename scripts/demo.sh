#!/usr/bin/env bash
# The local demo: the AWS emulator, a twin container per emulated instance, and
# the collection's own playbooks/site.yml, exactly as it runs against AWS.
#   scripts/demo.sh up [ansible-playbook args...]   # make demo ARGS='...'
#   scripts/demo.sh down                            # make destroy (safe to repeat)
# SOD_DEMO_NAME, SOD_DEMO_STATE_DIR and SOD_DEMO_APP_PORT select a separate demo.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export SOD_DEMO_NAME="${SOD_DEMO_NAME:-demo}"
export SOD_DEMO_STATE_DIR="${SOD_DEMO_STATE_DIR:-${root}/.cache/${SOD_DEMO_NAME}}"
# The emulator accepts any credentials; never let real ones reach it, nor a profile.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_PROFILE AWS_SESSION_TOKEN
moto=(python -m tests.support.moto --state-dir "${SOD_DEMO_STATE_DIR}/moto")

up() {
  mkdir -p "$SOD_DEMO_STATE_DIR"
  chmod 0700 "$SOD_DEMO_STATE_DIR"
  printf 'AWS emulator: %s\n' "$("${moto[@]}" start)"
  ansible-playbook -i demo/inventory demo/prepare.yml
  ansible-playbook -i demo/inventory playbooks/site.yml "$@"
  python demo/twin.py --state-dir "$SOD_DEMO_STATE_DIR" prune
}

down() {
  # An emulator that stopped is restored from its recording first (moto.py
  # start), so that teardown sees what the demo created.
  if [[ -f "${SOD_DEMO_STATE_DIR}/moto/moto.json" ]] && "${moto[@]}" start >/dev/null; then
    ansible-playbook -i demo/inventory playbooks/teardown.yml
  fi
  docker ps -aq --filter "name=^sod-${SOD_DEMO_NAME}-" | xargs -r docker rm -f >/dev/null
  docker network ls -q --filter "name=^sod-${SOD_DEMO_NAME}$" | xargs -r docker network rm >/dev/null
  # Every emulator started for this demo, not only the last one.
  "${moto[@]}" stop >/dev/null 2>&1 || true
  rm -rf "$SOD_DEMO_STATE_DIR"
  printf 'Demo %s removed.\n' "$SOD_DEMO_NAME"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  *) echo "usage: $0 up [ansible-playbook args...] | down" >&2; exit 2 ;;
esac
