"""Fixtures of the security scenario's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parent.parent
APP_USER = "streamlit"
BASE = "/opt/streamlit/hello"
PREFIX = "/home/streamlit/miniconda3"


@pytest.fixture(scope="session")
def canaries() -> dict[str, str]:
    """Each secret-bearing input's canary, and a line of the deploy key's body (a secret as well)."""
    found = yaml.safe_load((SCENARIO / "vars" / "canaries.yml").read_text())
    key = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "deploy_key").read_text().splitlines()
    found["deploy_key"] = key[1]
    return found


@pytest.fixture(scope="session")
def play_log() -> str:
    """Everything every ansible-playbook run of the scenario printed, at -vvv (ANSIBLE_LOG_PATH)."""
    return (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.log").read_text(errors="replace")


def _host(name: str) -> testinfra.host.Host:
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


@pytest.fixture(scope="session")
def app() -> testinfra.host.Host:
    """The host deployed with the canaries and attacked by its app user."""
    return _host("sod-security-debian12")


@pytest.fixture(scope="session")
def services() -> testinfra.host.Host:
    """The git server, package index and proxy that demand the secrets."""
    return _host("sod-security-services")
