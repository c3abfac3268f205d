#!/bin/bash
# Stand-in for a Miniconda3 / Miniforge3 installer, for tests only: no conda
# download is reachable from the test bed. It follows the real (constructor
# made) installer's command-line contract and prefix layout; see README.md.
#
# NAME:  %%INSTALLER_NAME%%
# VER:   %%INSTALLER_VER%%
set -eu

INSTALLER_NAME='%%INSTALLER_NAME%%'
INSTALLER_VER='%%INSTALLER_VER%%'
CONDA_VERSION='%%CONDA_VERSION%%'
THIS_PATH="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
PREFIX="${HOME:-/opt}/$(printf '%s' "$INSTALLER_NAME" | tr '[:upper:]' '[:lower:]')"
BATCH=0
FORCE=0
UPDATE=0
# Test hook: when this file exists, the installer writes its PID into it and
# stops half-way (payload unpacked, no conda-meta/history), so a test can kill it.
PAUSE_FILE=/run/miniconda-standin/pause
USAGE="
usage: $0 [options]

Installs ${INSTALLER_NAME} ${INSTALLER_VER} (test stand-in)
-b           run install in batch mode (without manual intervention)
-f           no error if install prefix already exists
-h           print this help message and exit
-p PREFIX    install prefix, defaults to $PREFIX, must not contain spaces.
-u           update an existing installation
"

while getopts "bfhp:u" x; do
    case "$x" in
        h) printf "%s\n" "$USAGE"; exit 2 ;;
        b) BATCH=1 ;;
        f) FORCE=1 ;;
        p) PREFIX="$OPTARG" ;;
        u) UPDATE=1 ;;
        ?) printf "ERROR: did not recognize option '%s', please try -h\n" "$x" >&2; exit 1 ;;
    esac
done

if [ "$BATCH" = "0" ]; then
    printf "ERROR: the stand-in has no interactive mode (no licence prompt): use -b\n" >&2
    exit 1
fi
case "$PREFIX" in
    *" "*) printf "ERROR: Cannot install into directories with spaces\n" >&2; exit 1 ;;
esac
if [ "$UPDATE" = "0" ] && [ "$FORCE" = "0" ] && [ -e "$PREFIX" ] \
        && { [ ! -d "$PREFIX" ] || [ -n "$(ls -A "$PREFIX")" ]; }; then
    printf "ERROR: File or directory already exists: '%s'\n" "$PREFIX" >&2
    printf "If you want to update an existing installation, use the -u option.\n" >&2
    exit 1
fi
if ! mkdir -p "$PREFIX"; then
    printf "ERROR: Could not create directory: '%s'\n" "$PREFIX" >&2
    exit 1
fi
PREFIX="$(cd "$PREFIX" && pwd)"
SYSTEM_PYTHON="$(command -v python3 || true)"
if [ -z "$SYSTEM_PYTHON" ]; then
    printf "ERROR: the stand-in copies its Python from the target's python3, which is missing\n" >&2
    exit 1
fi

printf "PREFIX=%s\nUnpacking payload ...\n" "$PREFIX"
mkdir -p "$PREFIX/pkgs"
PAYLOAD_LINE=$(awk '/^__PAYLOAD_BELOW__$/ { print NR + 1; exit 0; }' "$THIS_PATH")
tail -n +"$PAYLOAD_LINE" "$THIS_PATH" | tar -xzf - -C "$PREFIX/pkgs"

if [ -e "$PAUSE_FILE" ]; then
    echo "$$" > "$PAUSE_FILE"
    sleep 600
fi

printf "Installing base environment ...\n"
# A standalone interpreter whose home is PREFIX, with an ensurepip that uses the
# embedded pip wheel, and pip installed by it (see standin_python.py).
"$SYSTEM_PYTHON" "$PREFIX/pkgs/standin_python.py" "$PREFIX" "$PREFIX/pkgs"
sed -e "1s|.*|#!$PREFIX/bin/python|" \
    -e "s|@CONDA_VERSION@|$CONDA_VERSION|" \
    -e "s|@INSTALLER_NAME@|$INSTALLER_NAME|" \
    "$PREFIX/pkgs/conda_shim.py" > "$PREFIX/bin/conda"
chmod 0755 "$PREFIX/bin/conda"
mkdir -p "$PREFIX/condabin" "$PREFIX/etc/profile.d" "$PREFIX/conda-meta"
ln -sf ../bin/conda "$PREFIX/condabin/conda"
printf 'export CONDA_EXE="%s/bin/conda"\n' "$PREFIX" > "$PREFIX/etc/profile.d/conda.sh"

# Last, as the real installer does: the history file marks a finished install.
PY_VERSION="$("$PREFIX/bin/python" -c 'import platform; print(platform.python_version())')"
{
    printf "==> %s <==\n" "$(date '+%Y-%m-%d %H:%M:%S')"
    printf "# cmd: %s -b -p %s\n" "$THIS_PATH" "$PREFIX"
    printf "+stand-in::conda-%s-0\n+stand-in::python-%s-0\n" "$CONDA_VERSION" "$PY_VERSION"
} >> "$PREFIX/conda-meta/history"
printf "installation finished.\n"
exit 0
__PAYLOAD_BELOW__
