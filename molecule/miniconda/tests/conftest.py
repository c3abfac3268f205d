"""Shared fixtures: the stand-in HTTP server and re-runs of the role with a case's variables."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
import testinfra

CASE_PLAYBOOK = Path(__file__).resolve().parent.parent / "case.yml"
PREFIX = "/home/streamlit/miniconda3"
INSTALLER_PATH = "/Miniconda3-standin.sh"
SERVER = "sod-miniconda-http"


def inventory() -> str:
    return os.environ.get("MOLECULE_INVENTORY_FILE") or str(
        Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    )


def run_role(extra_vars: dict[str, object], hosts: str = "miniconda_targets") -> subprocess.CompletedProcess[str]:
    """Apply the role through case.yml; returns the finished ansible-playbook run."""
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
    )


@cache
def run_case(case_json: str) -> subprocess.CompletedProcess[str]:
    """Run one case once for both targets; tests for each host share the result."""
    return run_role(json.loads(case_json))


def recap_line(output: str, hostname: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(hostname) and "ok=" in line)


@pytest.fixture
def hostname(host: testinfra.host.Host) -> str:
    return host.backend.get_hostname()


@pytest.fixture
def server() -> testinfra.host.Host:
    return testinfra.get_host(f"ansible://{SERVER}", ansible_inventory=inventory())


@pytest.fixture
def host_ip(host: testinfra.host.Host) -> str:
    return host.check_output("hostname -i").split()[0]
