#!/usr/bin/env bash
# Prepare this machine for the test bed: Debian packages, a running Docker
# engine, the local systemd base images and the controller virtualenv.
# Idempotent: every step checks first and does nothing when already done.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${root}/.venv"
# chromium: the e2e test opens each deployed app in a real headless browser.
# libnss3-tools (certutil): the front_door test gives that browser a throwaway profile that
# trusts the test ACME server's root, and nothing else on the machine does.
# pebble: Let's Encrypt's test ACME server, which make demo (and the e2e test) runs in a
# container for the twins' front doors to get their certificates from.
apt_packages=(docker.io mmdebstrap git make curl openssh-client chromium libnss3-tools pebble)

log() { printf '==> %s\n' "$*"; }

install_debian_packages() {
  local missing=()
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  # A killed engine leaves its pid file behind; dockerd refuses to start then.
  if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "Starting the Docker engine"
  nohup dockerd >/var/log/streamlit-ops-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "dockerd did not answer within 60 s; see /var/log/streamlit-ops-dockerd.log" >&2
  exit 1
}

create_venv() {
  local stamp="${venv}/.requirements.sha256"
  local want
  want="$(sha256sum "${root}/requirements.txt" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  log "Creating ${venv}"
  python3 -m venv "$venv"
  # pip's failure fails the script (pipefail); the filter only drops noise.
  "${venv}/bin/pip" install -q --disable-pip-version-check -r "${root}/requirements.txt" 2>&1 \
    | { grep -v "is neither a file nor a directory" || true; }
  "${venv}/bin/python" -c "import ansible, molecule, moto, testinfra"
  echo "$want" >"$stamp"
}

link_collection() {
  # Make the checkout resolvable as streamlit_ops.deploy (ansible.cfg puts
  # .ansible/collections first on collections_path), so FQCN role names work
  # from the checkout exactly as from an installed collection.
  local link="${root}/.ansible/collections/ansible_collections/streamlit_ops/deploy"
  if [[ -L "$link" ]]; then return 0; fi
  mkdir -p "$(dirname "$link")"
  ln -s ../../../.. "$link"
}

install_debian_packages
start_docker
"${root}/scripts/build-images.sh"
create_venv
link_collection
log "Setup complete"
