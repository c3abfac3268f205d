"""Fixtures for the end-to-end suite: the e2e demo's state, its twins and the emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
STATE_DIR = Path(os.environ.get("SOD_DEMO_STATE_DIR", PROJECT / ".cache" / "e2e"))
DEPLOYMENT = os.environ.get("SOD_DEMO_NAME", "e2e")
ARTEFACTS = PROJECT / ".cache" / "test-artefacts" / "e2e"
# Pebble's roots, written by demo/prepare.yml: the only anchor the tests trust the front doors with.
CA_FILE = STATE_DIR / "acme" / "pebble-roots.pem"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


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


@pytest.fixture(scope="session")
def ec2() -> Any:
    moto = read_json(STATE_DIR / "moto" / "moto.json")
    return boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{moto['port']}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
