#!/usr/bin/env bash
# `ansible-test sanity` on the collection as users install it: build the
# tarball, install it into a temporary directory (outside the checkout: in a git
# work tree ansible-test only looks at files git tracks) and run every sanity
# test there, each in its own virtualenv (--venv).
#
# Offline: ansible-test first downloads pip's get-pip.py from a host this machine
# cannot reach. scripts/get_pip_offline.py stands in for it (ensurepip, then pip
# from the configured index) at the path ansible-test looks at first.
# tests/sanity/ignore-<core>.txt is not shipped (Galaxy's importer warns about
# ignore files in a tarball), so it is copied into the installed tree here.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/streamlit_ops-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python="${root}/.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
bin="$(dirname "$python")"

mkdir -p "$work/build"
# A clean environment: the checkout's ansible.cfg would resolve the collection to the checkout.
env -u ANSIBLE_CONFIG "${bin}/ansible-galaxy" collection build --output-path "$work/build" "$root" >/dev/null
(cd "$work" && env -u ANSIBLE_CONFIG "${bin}/ansible-galaxy" collection install --offline --no-deps \
  -p "$work" "$work"/build/streamlit_ops-deploy-*.tar.gz 2>&1 >/dev/null | { grep -v "not part of the configured Ansible collections paths" || true; })
installed="${work}/ansible_collections/streamlit_ops/deploy"

core="$("$python" -c 'import ansible.release as r; print(".".join(r.__version__.split(".")[:2]))')"
if [[ -f "${root}/tests/sanity/ignore-${core}.txt" ]]; then
  install -D -m 0644 "${root}/tests/sanity/ignore-${core}.txt" "${installed}/tests/sanity/ignore-${core}.txt"
fi

pip_version="$("$python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3"))["pip"])')"
bootstrap="${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [[ ! -f "$bootstrap" ]] || grep -q "A local stand-in for pip.s get-pip.py" "$bootstrap"; then
  # Ours (or none yet): keep it current. A real get-pip.py someone placed there is left alone.
  install -D -m 0644 "${root}/scripts/get_pip_offline.py" "$bootstrap"
fi

py_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
cd "$installed"
env -u ANSIBLE_CONFIG PATH="${bin}:${PATH}" "${bin}/ansible-test" sanity --venv --python "$py_version" --color no "$@"
