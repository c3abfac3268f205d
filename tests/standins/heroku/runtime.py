"""The stand-in's build and run machinery: Debian containers as Heroku's build dynos and web dynos.

A build does what Heroku's Python buildpack does with an app's dependency files: it picks the
Python the app's ``.python-version`` asks for (Debian 12 gives 3.11, Debian 13 gives 3.13;
any other version fails the build, as an unknown version fails the buildpack), creates a fresh
virtualenv in ``/app/.heroku/python`` and installs ``requirements.txt`` into it with pip, as an
unprivileged user in a container that reaches PyPI. The compiled directory is the slug.

A web dyno is a container running the slug's ``Procfile`` ``web`` command through bash after
sourcing ``.profile.d/*.sh``, with ``$PORT`` set, the app's config vars in its environment
(handed over through the docker client's environment, never its argv), and ``$PORT``
published on a loopback port: the app's URL. Each dyno gets its own copy of the slug (hard
links), so what it writes goes away with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# uid/gid the builds and dynos run as (Heroku's dynos never run as root).
DYNO_UID = 1000
DYNO_PORT = 5000
PIP_VERSION = "25.3"
PIP_WHEEL = f"pip-{PIP_VERSION}-py3-none-any.whl"
# The "stack": which image runs a Python version. Debian's own python3, as the buildpack's.
IMAGES = {
    "3.11": "local/streamlit-ops-debian12:latest",
    "3.13": "local/streamlit-ops-debian13:latest",
}
DEFAULT_PYTHON = "3.13"
UNSUPPORTED_MANAGERS = ("Pipfile", "poetry.lock", "uv.lock", "pyproject.toml")

BUILD_SCRIPT = r"""
set -euo pipefail
cd /app
printf -- '-----> Installing Python %s\n' "$(python3 -c 'import platform; print(platform.python_version())')"
python3 -m venv --without-pip /app/.heroku/python
printf -- '-----> Installing pip %s\n' "$SOD_PIP_VERSION"
/app/.heroku/python/bin/python "/standin/$SOD_PIP_WHEEL/pip" install -q --no-index "/standin/$SOD_PIP_WHEEL"
printf -- "-----> Installing dependencies using 'pip install -r requirements.txt'\n"
pip=(/app/.heroku/python/bin/pip install --no-cache-dir --progress-bar off -r requirements.txt)
if ! "${pip[@]}" 2>&1 | sed -u 's/^/       /'; then
  printf ' !     Error: Unable to install dependencies using pip.\n'
  printf ' !     See the log output above for more information.\n'
  exit 1
fi
"""

DYNO_SCRIPT = r"""
for f in /app/.profile.d/*.sh; do [ -f "$f" ] && . "$f"; done
eval "$0"
"""


@dataclass(frozen=True)
class Runtime:
    """Where the containers come from and what they are called."""

    namespace: str
    state_dir: Path
    ca_bundle: Path

    @property
    def wheels(self) -> Path:
        return self.state_dir / "wheels"

    def container(self, kind: str, name: str) -> str:
        return f"sod-{self.namespace}-{kind}-{name}"

    def pip_wheel(self) -> Path:
        """pip, to bootstrap each fresh virtualenv (Debian's python3 comes without ensurepip)."""
        wheel = self.wheels / PIP_WHEEL
        if not wheel.exists():
            self.wheels.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                 f"pip=={PIP_VERSION}", "-d", str(self.wheels)],
                check=True,
            )  # fmt: skip
        return wheel

    def build(self, app_dir: Path, build_id: str, log: Callable[[str], None]) -> bool:
        """Compile app_dir in place into a slug; True when it succeeded. Every line goes to log."""
        log("-----> Building on the Heroku-24 stack (stand-in)")
        if not (app_dir / "requirements.txt").is_file():
            others = ", ".join(name for name in UNSUPPORTED_MANAGERS if (app_dir / name).exists())
            log(" !     Error: Couldn't find a requirements.txt file.")
            if others:
                log(f" !     Found {others}: the stand-in's Python buildpack installs requirements.txt only.")
            log(" !     Push rejected, failed to compile Python app.")
            return False
        log("-----> Python app detected")
        version = python_version(app_dir)
        if version not in IMAGES:
            log(f" !     Error: The requested Python version ({version}) is not available in the stand-in.")
            log(f" !     It runs Python {', '.join(sorted(IMAGES))} (Debian's); set .python-version to one of them.")
            log(" !     Push rejected, failed to compile Python app.")
            return False
        log(f"-----> Using Python {version} specified in .python-version")
        chown_tree(app_dir)
        wheel = self.pip_wheel()
        command = [
            "docker", "run", "--rm", "--name", self.container("build", build_id[:8]),
            "--user", f"{DYNO_UID}:{DYNO_UID}", "--env", "HOME=/tmp", "--env", "PIP_DISABLE_PIP_VERSION_CHECK=1",
            "--env", "PIP_CERT=/standin/ca.crt", "--env", "PYTHONDONTWRITEBYTECODE=1",
            "--env", f"SOD_PIP_VERSION={PIP_VERSION}", "--env", f"SOD_PIP_WHEEL={PIP_WHEEL}",
            "--volume", f"{app_dir}:/app", "--volume", f"{wheel}:/standin/{PIP_WHEEL}:ro",
            "--volume", f"{self.ca_bundle}:/standin/ca.crt:ro",
            IMAGES[version], "bash", "-c", BUILD_SCRIPT,
        ]  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
            assert process.stdout is not None
            for line in process.stdout:
                log(line.rstrip("\n"))
        if process.returncode != 0:
            log(" !     Push rejected, failed to compile Python app.")
            return False
        return True

    def start_dyno(self, app: str, slug_dir: Path, command: str, env: dict[str, str], port: int) -> str:
        """Start (or replace) the app's web dyno; returns the container name."""
        name = self.container("dyno", f"{app}-web")
        self.stop_dyno(app)
        dyno_dir = self.state_dir / "dynos" / app
        shutil.rmtree(dyno_dir, ignore_errors=True)
        dyno_dir.parent.mkdir(parents=True, exist_ok=True)
        # Hard links: a private copy of the slug in no time; -a keeps the dyno user's ownership.
        subprocess.run(["cp", "-a", "-l", str(slug_dir), str(dyno_dir)], check=True)
        runtime_env = {"PORT": str(DYNO_PORT), "DYNO": "web.1", "HOME": "/app",
                       "PATH": "/app/.heroku/python/bin:/usr/local/bin:/usr/bin:/bin"}  # fmt: skip
        variables = {**env, **runtime_env}
        command_line = [
            "docker", "run", "--detach", "--name", name, "--user", f"{DYNO_UID}:{DYNO_UID}", "--workdir", "/app",
            "--publish", f"127.0.0.1:{port}:{DYNO_PORT}", "--volume", f"{dyno_dir}:/app",
            *[arg for key in sorted(variables) for arg in ("--env", key)],
            IMAGES[python_version(slug_dir)], "bash", "-c", DYNO_SCRIPT, command,
        ]  # fmt: skip
        # Values travel in the docker client's environment (-e KEY), never in its argv.
        subprocess.run(command_line, check=True, capture_output=True, env={"PATH": os.environ["PATH"], **variables})
        return name

    def stop_dyno(self, app: str) -> None:
        subprocess.run(
            ["docker", "rm", "--force", self.container("dyno", f"{app}-web")], capture_output=True, check=False
        )
        shutil.rmtree(self.state_dir / "dynos" / app, ignore_errors=True)


def python_version(app_dir: Path) -> str:
    """major.minor from .python-version (its first line that is not a comment), else the default."""
    path = app_dir / ".python-version"
    if not path.is_file():
        return DEFAULT_PYTHON
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return ".".join(line.split(".")[:2])
    return DEFAULT_PYTHON


def chown_tree(root: Path) -> None:
    """The build runs as the dyno user: hand it the unpacked source."""
    for path in [root, *root.rglob("*")]:
        os.lchown(path, DYNO_UID, DYNO_UID)
