"""A local stand-in for pip's get-pip.py, which `ansible-test --venv` downloads from a host this machine cannot reach.

ansible-test runs the bootstrap script in a new virtual environment that has no pip, with the arguments
get-pip.py takes (pip options, the packages to install, --no-setuptools / --no-wheel). This one installs
the pip bundled with Python (ensurepip, no network), then lets that pip install the requested packages from
the configured package index, as get-pip.py would. scripts/sanity.sh puts it where ansible-test looks first:
~/.ansible/test/cache/get_pip_<version>.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

# get-pip.py's own switches; plain pip does not know them.
OWN_SWITCHES = {"--no-setuptools", "--no-wheel"}


def pip(*arguments: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", *arguments])


def main() -> int:
    # In a child process: ensurepip turns pip's configuration files off in its own environment
    # (PIP_CONFIG_FILE=/dev/null), and the install below needs them (a proxy's CA, an index).
    subprocess.run([sys.executable, "-m", "ensurepip"], check=True, stdout=subprocess.DEVNULL)
    # Python 3.11's ensurepip also installs setuptools, which get-pip.py leaves out when told to.
    if "--no-setuptools" in sys.argv and importlib.util.find_spec("setuptools") is not None:
        pip("uninstall", "--yes", "--quiet", "setuptools")
    return pip("install", "--upgrade", *(argument for argument in sys.argv[1:] if argument not in OWN_SWITCHES))


if __name__ == "__main__":
    sys.exit(main())
