#!/usr/bin/env bash
# Build the stand-in Miniconda/Miniforge installer into OUTDIR.
#   build.sh OUTDIR [INSTALLER_NAME] [INSTALLER_VER] [CONDA_VERSION]
# Writes OUTDIR/<INSTALLER_NAME>-standin.sh and OUTDIR/<...>.sh.sha256.
# pip's wheel comes from PyPI (the host's pip and its configuration) at build time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTDIR [INSTALLER_NAME] [INSTALLER_VER] [CONDA_VERSION]}"
name="${2:-Miniconda3}"
ver="${3:-py312_25.7.0-2}"
conda_version="${4:-25.7.0}"
pip_version=25.2
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work/payload" "pip==$pip_version"
cp "$here/conda_shim.py" "$here/standin_python.py" "$work/payload/"
mkdir "$work/payload/ensurepip"
cp "$here/ensurepip/__init__.py" "$here/ensurepip/__main__.py" "$work/payload/ensurepip/"
installer="$out/$name-standin.sh"
sed -e "s|%%INSTALLER_NAME%%|$name|g" -e "s|%%INSTALLER_VER%%|$ver|g" -e "s|%%CONDA_VERSION%%|$conda_version|g" \
    "$here/installer-header.sh" > "$work/installer.sh"
tar -czf - -C "$work/payload" . >> "$work/installer.sh"
chmod 0755 "$work/installer.sh"
mv "$work/installer.sh" "$installer"
(cd "$out" && sha256sum "$(basename "$installer")" > "$(basename "$installer").sha256")
echo "$installer"
