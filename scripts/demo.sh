#!/usr/bin/env bash
# The local demo: the AWS emulator, a twin container per emulated instance, and
# the collection's own playbooks/site.yml, exactly as it runs against AWS.
#   scripts/demo.sh up [ansible-playbook args...]   # make demo ARGS='...'
#   scripts/demo.sh down                            # make destroy (safe to repeat; the Heroku demo too)
#   scripts/demo.sh heroku-up [ansible-playbook args...]   # make demo-heroku: playbooks/heroku.yml
#                                                   # against the Heroku stand-in (tests/standins/heroku)
# SOD_DEMO_NAME, SOD_DEMO_STATE_DIR, SOD_DEMO_HTTPS_PORT and SOD_DEMO_HTTP_PORT (the first
# loopback ports the twins' front doors take) select a separate demo
# (SOD_DEMO_HEROKU_PORT: the Heroku demo app's loopback port).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export SOD_DEMO_NAME="${SOD_DEMO_NAME:-demo}"
export SOD_DEMO_STATE_DIR="${SOD_DEMO_STATE_DIR:-${root}/.cache/${SOD_DEMO_NAME}}"
# The emulator accepts any credentials; never let real ones reach it, nor a profile.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_PROFILE AWS_SESSION_TOKEN
moto=(python -m tests.support.moto --state-dir "${SOD_DEMO_STATE_DIR}/moto")
# The Heroku demo keeps its own state beside the EC2 demo's, and names its containers
# sod-<name>-heroku-*.
heroku_state_dir="${SOD_DEMO_STATE_DIR}-heroku"
heroku=(python -m tests.standins.heroku --state-dir "$heroku_state_dir" --name "${SOD_DEMO_NAME}-heroku")

up() {
  mkdir -p "$SOD_DEMO_STATE_DIR"
  chmod 0700 "$SOD_DEMO_STATE_DIR"
  printf 'AWS emulator: %s\n' "$("${moto[@]}" start)"
  ansible-playbook -i demo/inventory demo/prepare.yml
  ansible-playbook -i demo/inventory playbooks/site.yml "$@"
  python demo/twin.py --state-dir "$SOD_DEMO_STATE_DIR" prune
  # Written by demo/prepare.yml (sod_demo_ca_file): what the App URLs' certificates chain to.
  printf 'CA file %s\n' "${SOD_DEMO_STATE_DIR}/acme/pebble-roots.pem"
  echo "  (Pebble's roots: the demo's Let's Encrypt is Pebble, and nothing here trusts it; curl --cacert <CA file> <App URL>_stcore/health)"
}

heroku_up() {
  mkdir -p "$heroku_state_dir"
  chmod 0700 "$heroku_state_dir"
  # The stand-in accepts one key, made for this demo: never a real Heroku key.
  if [[ ! -s "${heroku_state_dir}/api-key" ]]; then
    (umask 077 && python -c 'import secrets; print(secrets.token_hex(16))' >"${heroku_state_dir}/api-key")
  fi
  HEROKU_API_KEY="$(cat "${heroku_state_dir}/api-key")"
  export HEROKU_API_KEY
  SOD_HEROKU_API_URL="$("${heroku[@]}" start --port-base "${SOD_DEMO_HEROKU_PORT:-8700}")"
  export SOD_HEROKU_API_URL
  printf 'Heroku stand-in: %s\n' "$SOD_HEROKU_API_URL"
  ansible-playbook playbooks/heroku.yml -e @demo/heroku.yml "$@"
}

heroku_down() {
  local url
  [[ -d "$heroku_state_dir" ]] || return 0
  if url="$("${heroku[@]}" url 2>/dev/null)" && curl -fs -o /dev/null "${url}/_standin/stats"; then
    HEROKU_API_KEY="$(cat "${heroku_state_dir}/api-key")" SOD_HEROKU_API_URL="$url" \
      ansible-playbook playbooks/heroku_teardown.yml -e @demo/heroku.yml
  fi
  "${heroku[@]}" stop >/dev/null 2>&1 || true
  docker ps -aq --filter "name=^sod-${SOD_DEMO_NAME}-heroku-" | xargs -r docker rm -f >/dev/null
  rm -rf "$heroku_state_dir"
  printf 'Heroku demo %s removed.\n' "$SOD_DEMO_NAME"
}

down() {
  heroku_down
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
  heroku-up) shift; heroku_up "$@" ;;
  down) down ;;
  *) echo "usage: $0 up [ansible-playbook args...] | heroku-up [ansible-playbook args...] | down" >&2; exit 2 ;;
esac
