#!/usr/bin/env python3
"""Stand-in ``conda`` installed by the stand-in installer (tests only).

It answers the few commands the miniconda role uses and fails loudly on any
other; see README.md next to this file. The installer rewrites the first line
to the prefix's Python and fills in the version and installer name.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

CONDA_VERSION = "@CONDA_VERSION@"
INSTALLER_NAME = "@INSTALLER_NAME@"
ROOT_PREFIX = Path(sys.executable).resolve().parent.parent
# Miniconda's default channel needs Terms of Service acceptance; Miniforge's does not.
GATED_CHANNELS = (
    ["https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"]
    if INSTALLER_NAME.startswith("Miniconda")
    else []
)
TOS_ROOT = Path.home() / ".conda" / "tos"


def fail(name: str, message: str, code: int = 1) -> int:
    print(f"\n{name}: {message}\n", file=sys.stderr)
    return code


def tos_record(channel: str) -> Path:
    return TOS_ROOT / (re.sub(r"[^A-Za-z0-9]+", "_", channel).strip("_") + ".json")


def tos_accept(args: list[str]) -> int:
    channels = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("--channel", "-c")]
    if "--override-channels" not in args or not channels:
        return fail("ArgumentError", "the stand-in needs --override-channels --channel URL")
    TOS_ROOT.mkdir(parents=True, exist_ok=True)
    for channel in channels:
        record = {"channel": channel, "tos_accepted": True, "acceptance_timestamp": time.time()}
        tos_record(channel).write_text(json.dumps(record) + "\n")
        print(f"accepted Terms of Service for {channel}")
    return 0


def tos_missing() -> list[str]:
    if os.environ.get("CONDA_PLUGINS_AUTO_ACCEPT_TOS", "").lower() in ("1", "true", "yes"):
        return []
    return [channel for channel in GATED_CHANNELS if not tos_record(channel).exists()]


def python_spec(specs: list[str]) -> str | None:
    for spec in specs:
        match = re.fullmatch(r"python(?:=|==)(\d+\.\d+)(?:\.\*)?", spec)
        if match:
            return match.group(1)
    return None


def make_env(name: str, specs: list[str]) -> int:
    missing = tos_missing()
    if missing:
        listed = "\n".join(f"    - {channel}" for channel in missing)
        return fail(
            "CondaToSNonInteractiveError",
            f"Terms of Service have not been accepted for the following channels:\n{listed}",
        )
    have = "{}.{}".format(*platform.python_version_tuple()[:2])
    wanted = python_spec(specs)
    if wanted is None or wanted != have or len(specs) != 1:
        return fail("PackagesNotFoundError", f"the stand-in can only provide python={have}, asked for {specs}")
    prefix = ROOT_PREFIX / "envs" / name
    if prefix.exists():
        shutil.rmtree(prefix)
    # A standalone interpreter linked from the base prefix, as conda links from its package cache.
    pkgs = ROOT_PREFIX / "pkgs"
    subprocess.run([sys.executable, str(pkgs / "standin_python.py"), str(prefix), str(pkgs), "--link"], check=True)
    (prefix / "conda-meta").mkdir()
    history = f"==> {time.strftime('%Y-%m-%d %H:%M:%S')} <==\n# cmd: conda create -n {name} {' '.join(specs)}\n"
    (prefix / "conda-meta" / "history").write_text(history)
    print(f"# To activate this environment, use\n#     $ conda activate {name}")
    return 0


def option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg in names:
            return args[i + 1]
    return None


def create(args: list[str]) -> int:
    name = option(args, "-n", "--name")
    if name is None:
        return fail("ArgumentError", "the stand-in needs -n NAME")
    values = {v for i, v in enumerate(args) if i > 0 and args[i - 1] in ("-n", "--name")}
    specs = [arg for arg in args if not arg.startswith("-") and arg not in values]
    return make_env(name, specs)


def env_create(args: list[str]) -> int:
    path = option(args, "-f", "--file")
    if path is None:
        return fail("ArgumentError", "the stand-in needs -f FILE")
    text = Path(path).read_text()
    found = re.search(r"^name:\s*(\S+)", text, re.MULTILINE)
    name = option(args, "-n", "--name") or (found.group(1) if found else None)
    if name is None:
        return fail("ArgumentError", "no environment name given (-n) nor in the file")
    specs = re.findall(r"^\s*-\s*(python\S*)\s*$", text, re.MULTILINE)
    return make_env(name, specs)


def info(args: list[str]) -> int:
    if "--json" not in args:
        return fail("NotImplementedError", "the stand-in only answers conda info --json", 2)
    print(json.dumps({"conda_version": CONDA_VERSION, "root_prefix": str(ROOT_PREFIX), "platform": sys.platform}))
    return 0


def main(args: list[str]) -> int:
    if args[:1] in (["--version"], ["-V"]):
        print(f"conda {CONDA_VERSION}")
        return 0
    if args[:2] == ["tos", "accept"]:
        return tos_accept(args[2:])
    if args[:1] == ["create"]:
        return create(args[1:])
    if args[:2] == ["env", "create"]:
        return env_create(args[2:])
    if args[:1] == ["info"]:
        return info(args[1:])
    return fail("NotImplementedError", f"the conda stand-in does not implement: conda {' '.join(args)}", 2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
