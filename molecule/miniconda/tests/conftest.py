"""Shared fixtures: the stand-in HTTP server and re-runs of the role with a case's variables."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import testinfra

CASE_PLAYBOOK = Path(__file__).resolve().parent.parent / "case.yml"
PREFIX = "/home/streamlit/miniconda3"
INSTALLER_PATH = "/Miniconda3-standin.sh"
SERVER = "sod-miniconda-http"
TARGETS = ["docker://sod-miniconda-debian12", "docker://sod-miniconda-debian13"]


def inventory() -> str:
    return os.environ.get("MOLECULE_INVENTORY_FILE") or str(
        Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    )


def run_role(extra_vars: dict[str, object], hosts: str = "miniconda_targets") -> subprocess.CompletedProcess[str]:
    """Apply the role through case.yml; stdout is the run as JSON (ansible.posix.json callback)."""
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            inventory(),
            str(CASE_PLAYBOOK),
            "-e",
            json.dumps({**extra_vars, "case_hosts": hosts}),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "true"},
    )


@cache
def run_case(case_json: str) -> subprocess.CompletedProcess[str]:
    """Run one case once for both targets; tests for each host share the result."""
    return run_role(json.loads(case_json))


def host_results(result: subprocess.CompletedProcess[str], hostname: str) -> list[dict[str, Any]]:
    """Every task result of one host, in order."""
    run = json.loads(result.stdout)
    return [task["hosts"][hostname] for play in run["plays"] for task in play["tasks"] if hostname in task["hosts"]]


def failure_message(result: subprocess.CompletedProcess[str], hostname: str) -> str:
    return " ".join(str(r.get("msg", "")) for r in host_results(result, hostname) if r.get("failed"))


def changed_count(result: subprocess.CompletedProcess[str], hostname: str) -> int:
    return int(json.loads(result.stdout)["stats"][hostname]["changed"])


@pytest.fixture
def hostname(host: testinfra.host.Host) -> str:
    return host.backend.name


@pytest.fixture
def server() -> testinfra.host.Host:
    return testinfra.get_host(f"docker://{SERVER}")


@pytest.fixture
def host_ip(host: testinfra.host.Host) -> str:
    return host.check_output("hostname -i").split()[0]
