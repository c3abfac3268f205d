"""Shared fixtures: run the scenario's playbook against Molecule's inventory."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra

SCENARIO = Path(__file__).resolve().parent.parent
APP_HOST = "sod-streamlit_app-debian13"
BASE = "/opt/streamlit/hello"
SECRET = "molecule-s3cret-7f3a9"
HEALTH = "curl -fsS --max-time 5 http://127.0.0.1:8501/_stcore/health"


@dataclass
class Run:
    """The outcome of one ansible-playbook run."""

    rc: int
    output: str


def _ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    ephemeral = env.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
    cfg = Path(ephemeral) / "ansible.cfg"
    if cfg.exists():
        env["ANSIBLE_CONFIG"] = str(cfg)
    env["ANSIBLE_FORCE_COLOR"] = "false"
    env["ANSIBLE_NOCOLOR"] = "true"
    return env


def run_playbook(extra_vars: dict[str, Any], limit: str = APP_HOST) -> Run:
    """Run converge.yml with extra vars (verbose, with --diff) and capture all output."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(extra_vars, handle)
        handle.flush()
        result = subprocess.run(
            [
                "ansible-playbook",
                "-v",
                "--diff",
                "-i",
                os.environ["MOLECULE_INVENTORY_FILE"],
                "--limit",
                limit,
                "-e",
                f"@{handle.name}",
                str(SCENARIO / "converge.yml"),
            ],
            capture_output=True,
            text=True,
            env=_ansible_env(),
            check=False,
        )
    return Run(result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope="session")
def playbook() -> Callable[..., Run]:
    """The playbook runner, as a fixture."""
    return run_playbook


@pytest.fixture(scope="session")
def app_host() -> testinfra.host.Host:
    """The host the lifecycle tests deploy to (Debian 13, wheelhouse installs)."""
    return testinfra.get_host(f"ansible://{APP_HOST}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def current_release(host: testinfra.host.Host) -> str:
    """The release the current symlink points at."""
    return host.file(f"{BASE}/current").linked_to


def served_release(host: testinfra.host.Host) -> str:
    """The release the running Streamlit server comes from.

    Its interpreter is the release's venv python (the shebang of current/venv/bin/streamlit
    resolves to the real release path); /proc/<pid>/cwd is not readable without CAP_SYS_PTRACE.
    """
    interpreter = host.check_output("pgrep -u streamlit -x streamlit -a | head -n1").split()[1]
    return interpreter.removesuffix("/venv/bin/python")


def service_started_at(host: testinfra.host.Host) -> str:
    """systemd's record of when the service last entered the active state."""
    return host.check_output("systemctl show -P ActiveEnterTimestampMonotonic streamlit-hello.service")
