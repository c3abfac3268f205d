"""Fixtures for the end-to-end suite: the e2e demo's state, its twins and the emulator.

The converge deployed the e2e demo; the tests read it. Those that need something else
arrange it in a fixture and put it back (another host key, test_host_keys.py) or use a
deployment of their own (teardown, test_teardown.py), so that no test depends on another
one's order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.playbook import Run, run_command

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
STATE_DIR = Path(os.environ.get("SOD_DEMO_STATE_DIR", PROJECT / ".cache" / "e2e"))
DEPLOYMENT = os.environ.get("SOD_DEMO_NAME", "e2e")
# The first loopback ports the twins publish their front doors' HTTPS and HTTP on (one more per twin).
HTTPS_PORT = int(os.environ.get("SOD_DEMO_HTTPS_PORT", "18601"))
HTTP_PORT = int(os.environ.get("SOD_DEMO_HTTP_PORT", "18611"))
ARTEFACTS = PROJECT / ".cache" / "test-artefacts" / "e2e"
# Pebble's roots, written by demo/prepare.yml: the only anchor the tests trust the front doors with.
CA_FILE = STATE_DIR / "acme" / "pebble-roots.pem"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def demo_settings(name: str, state_dir: Path, https_port: int, http_port: int) -> dict[str, str | None]:
    """What selects a demo (scripts/demo.sh, demo/inventory) besides the user's: its name, state and ports."""
    return {
        "SOD_DEMO_NAME": name,
        "SOD_DEMO_STATE_DIR": str(state_dir),
        "SOD_DEMO_HTTPS_PORT": str(https_port),
        "SOD_DEMO_HTTP_PORT": str(http_port),
    }


def demo(*args: str, settings: dict[str, str | None]) -> Run:
    """scripts/demo.sh ARGS as `make demo` / `make destroy` run it: a clean shell, the checkout's ansible.cfg."""
    return run_command([str(PROJECT / "scripts" / "demo.sh"), *args], env=settings, isolated=True, cwd=PROJECT)


@pytest.fixture(scope="session")
def state_dir() -> Path:
    return STATE_DIR


@pytest.fixture(scope="session")
def twins() -> dict[str, dict[str, Any]]:
    """The twin of each emulated instance, keyed by the instance's address."""
    found: dict[str, dict[str, Any]] = read_json(STATE_DIR / "twins.json")
    return found


def app_url(twin: dict[str, Any]) -> str:
    """Where the twin's front door serves the app: its *.localhost name (loopback) and published HTTPS port."""
    return f"https://{twin['name']}:{twin['https_port']}/"


def ec2_client(state_dir: Path) -> Any:
    """EC2 of the emulator a demo's state directory names."""
    moto = read_json(state_dir / "moto" / "moto.json")
    return boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{moto['port']}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def ec2() -> Any:
    return ec2_client(STATE_DIR)


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
