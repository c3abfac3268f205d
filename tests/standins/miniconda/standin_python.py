"""Lay out a standalone Python in a conda-style prefix (tests only).

    standin_python.py PREFIX PKGS_DIR [--link]

Copies the running interpreter's binary to PREFIX/bin/pythonX.Y and its standard library
(lib-dynload included) to PREFIX/lib/pythonX.Y, so that Python finds its home from the binary's
location (sys.prefix == sys.base_prefix == PREFIX), as in a real Miniconda prefix. Debian's
patches that route installs to /usr/local and look for ensurepip's wheels in
/usr/share/python-wheels are undone: site-packages is PREFIX/lib/pythonX.Y/site-packages and
ensurepip is replaced by PKGS_DIR/ensurepip with PKGS_DIR's pip wheel in ``_bundled/``. pip is
then installed with that ensurepip. ``--link`` hard-links the library instead of copying it
(``conda create`` from a stand-in prefix, as conda links files from its package cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

VERSION = "{}.{}".format(*sys.version_info[:2])
# The system install's Debian-only files: a conda prefix has none of them.
SKIPPED = {"EXTERNALLY-MANAGED", "dist-packages", "site-packages", "ensurepip"}
# Debian's choices, undone in the copy (checked afterwards, so a changed patch fails loudly).
# Debian routes installs to /usr/local (posix_local); upstream, and conda, use the prefix itself.
SYSCONFIG_PATCH = ("prefix_scheme = 'posix_local'", "prefix_scheme = 'posix_prefix'  # stand-in: as upstream")
# site is frozen into Debian's binary, so its Debian-only site directories cannot be edited away;
# sitecustomize (imported by site from the standard library) adds upstream's site-packages instead.
SITECUSTOMIZE = """\
# Stand-in: a conda prefix's site-packages, as upstream site.py adds it (Debian's frozen site does not).
import os
import site
import sys

if sys.prefix == sys.base_prefix:
    site.addsitedir(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
"""
CHECK = """
import os, sys, sysconfig
prefix = os.path.realpath(sys.argv[1])
found = {p: os.path.realpath(getattr(sys, p)) for p in ("prefix", "base_prefix", "exec_prefix")}
assert set(found.values()) == {prefix}, f"prefix is not {prefix}: {found}"
site = os.path.realpath(sysconfig.get_path("purelib"))
assert site == os.path.join(prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"), site
assert site in map(os.path.realpath, sys.path), f"{site} is not on sys.path"
import ensurepip, ssl, sqlite3
assert os.path.realpath(ensurepip.__file__).startswith(prefix), ensurepip.__file__
"""


def copy_tree(source: Path, dest: Path, link: bool) -> None:
    def copy(src: str, dst: str) -> str:
        if link:
            os.link(src, dst)
            return dst
        return shutil.copy2(src, dst)

    ignore = shutil.ignore_patterns(*SKIPPED)
    shutil.copytree(source, dest, ignore=ignore, copy_function=copy, symlinks=True, dirs_exist_ok=True)


def replace(path: Path, text: str) -> None:
    """Write a new file rather than in place: the old one may be a hard link."""
    path.unlink()
    path.write_text(text)


def undo_debian_patches(stdlib: Path) -> None:
    for path in (stdlib / "sysconfig.py", stdlib / "sysconfig" / "__init__.py"):
        if path.is_file():
            replace(path, path.read_text().replace(*SYSCONFIG_PATCH))
    sitecustomize = stdlib / "sitecustomize.py"
    sitecustomize.unlink(missing_ok=True)
    sitecustomize.write_text(SITECUSTOMIZE)


def install_ensurepip(stdlib: Path, pkgs: Path) -> None:
    target = stdlib / "ensurepip"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(pkgs / "ensurepip", target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "_bundled").mkdir()
    for wheel in pkgs.glob("pip-*.whl"):
        shutil.copy2(wheel, target / "_bundled" / wheel.name)


def install_binary(prefix: Path, link: bool) -> Path:
    source = Path(sys.executable).resolve()
    bindir = prefix / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    binary = bindir / f"python{VERSION}"
    for path in (binary, bindir / "python3", bindir / "python"):
        path.unlink(missing_ok=True)
    if link:
        os.link(source, binary)
    else:
        shutil.copy2(source, binary)
    (bindir / "python3").symlink_to(binary.name)
    (bindir / "python").symlink_to(binary.name)
    return bindir / "python"


def main(prefix: Path, pkgs: Path, link: bool) -> int:
    stdlib = prefix / "lib" / f"python{VERSION}"
    copy_tree(Path(sysconfig.get_path("stdlib")), stdlib, link)
    (stdlib / "site-packages").mkdir(exist_ok=True)
    undo_debian_patches(stdlib)
    install_ensurepip(stdlib, pkgs)
    python = install_binary(prefix, link)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONHOME", "PYTHONPATH")}
    subprocess.run([str(python), "-c", CHECK, str(prefix)], check=True, env=env)
    subprocess.run([str(python), "-m", "ensurepip", "--default-pip"], check=True, env=env, stdout=subprocess.DEVNULL)
    return subprocess.run([str(prefix / "bin" / "pip"), "--version"], check=True, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), "--link" in sys.argv[3:]))
