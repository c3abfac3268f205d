"""ensurepip for the stand-in's Python (tests only): bootstraps pip from the wheel in ``_bundled/``.

Debian's own ensurepip looks for its wheels in /usr/share/python-wheels (the python3-pip-whl
package); a conda prefix carries its own. This follows CPython's upstream ensurepip: copy the
bundled wheel to a temporary directory and run pip from it with ``--no-index --find-links``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["bootstrap", "version"]

_BUNDLED = Path(__file__).resolve().parent / "_bundled"


def _wheel() -> Path:
    wheels = sorted(_BUNDLED.glob("pip-*.whl"))
    if not wheels:
        raise RuntimeError(f"no pip wheel in {_BUNDLED}")
    return wheels[-1]


def version() -> str:
    """The version of the bundled pip."""
    return _wheel().name.split("-")[1]


def _run_pip(args: list[str], wheel: Path) -> int:
    code = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(wheel)!r})\n"
        f"sys.argv[1:] = {args!r}\n"
        "runpy.run_module('pip', run_name='__main__', alter_sys=True)\n"
    )
    command = [sys.executable, "-W", "ignore::DeprecationWarning", "-c", code]
    if sys.flags.isolated:
        command.insert(1, "-I")
    return subprocess.run(command, check=True).returncode


def bootstrap(
    *,
    root: str | None = None,
    upgrade: bool = False,
    user: bool = False,
    altinstall: bool = False,
    default_pip: bool = False,
    verbosity: int = 0,
) -> int:
    """Install the bundled pip into the running interpreter's environment."""
    if altinstall and default_pip:
        raise ValueError("Cannot use altinstall and default_pip together")
    sys.audit("ensurepip.bootstrap", root)
    # As upstream: the user's pip configuration must not steer an offline bootstrap.
    for key in [key for key in os.environ if key.startswith("PIP_")]:
        del os.environ[key]
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    if altinstall:
        os.environ["ENSUREPIP_OPTIONS"] = "altinstall"
    elif not default_pip:
        os.environ["ENSUREPIP_OPTIONS"] = "install"
    with tempfile.TemporaryDirectory() as tmpdir:
        wheel = Path(shutil.copy2(_wheel(), tmpdir))
        args = ["install", "--no-cache-dir", "--no-index", "--find-links", tmpdir]
        args += ["--root", root] if root else []
        args += ["--upgrade"] if upgrade else []
        args += ["--user"] if user else []
        args += ["-" + "v" * verbosity] if verbosity else []
        return _run_pip([*args, "pip"], wheel)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ensurepip")
    parser.add_argument("--version", action="version", version=f"pip {version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0, dest="verbosity")
    parser.add_argument("-U", "--upgrade", action="store_true")
    parser.add_argument("--user", action="store_true")
    parser.add_argument("--root", default=None)
    parser.add_argument("--altinstall", action="store_true")
    parser.add_argument("--default-pip", action="store_true")
    options = parser.parse_args(argv)
    return bootstrap(
        root=options.root,
        upgrade=options.upgrade,
        user=options.user,
        altinstall=options.altinstall,
        default_pip=options.default_pip,
        verbosity=options.verbosity,
    )
