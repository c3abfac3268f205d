#!/usr/bin/env bash
# Build the local systemd base images from Debian's archive (never pulled:
# there is no registry). Each image is tagged with a hash of its recipe, so a
# changed recipe builds a new image; `latest` points at the newest build.
set -euo pipefail

# The "EC2 instance": what a minimal cloud image has (systemd, sshd, sudo,
# python3, curl), and nothing the roles must install themselves (tmux, git).
packages="python3,python3-apt,sudo,systemd,systemd-sysv,dbus,openssh-server,ca-certificates,curl,bzip2,iproute2,procps"

declare -A suites=([debian12]=bookworm [debian13]=trixie)

build() {
  local name="$1" suite="$2"
  local recipe hash image
  recipe="$(printf '%s\n%s\n%s\n' "$suite" "$packages" "$(sha256sum "$0" | cut -d' ' -f1)")"
  hash="$(printf '%s' "$recipe" | sha256sum | cut -c1-12)"
  image="local/streamlit-ops-${name}"
  if docker image inspect "${image}:${hash}" >/dev/null 2>&1; then
    docker tag "${image}:${hash}" "${image}:latest"
    return 0
  fi
  printf '==> Building %s:%s from Debian %s\n' "$image" "$hash" "$suite"
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  # No mirror argument: mmdebstrap reads the host's apt sources.
  # The customize hook removes baked-in sshd host keys (regenerated at boot by
  # ssh.service's keygen) and the machine id, so every container is distinct.
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
    --customize-hook='mkdir -p "$1"/etc/systemd/system/ssh.service.d' \
    --customize-hook='printf "[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n" > "$1"/etc/systemd/system/ssh.service.d/keygen.conf' \
    --customize-hook='truncate -s0 "$1"/etc/machine-id' \
    "$suite" "${work}/rootfs.tar"
  docker import --change 'CMD ["/lib/systemd/systemd"]' \
    "${work}/rootfs.tar" "${image}:${hash}" >/dev/null
  docker tag "${image}:${hash}" "${image}:latest"
}

for name in "${!suites[@]}"; do
  build "$name" "${suites[$name]}"
done
