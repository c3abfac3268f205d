"""Teardown leaves nothing of the deployment: no AWS resource, no twin, no emulator, no key.

On a deployment of its own (so that every other test reads the e2e demo, in any order):
the same machinery under another name, state directory and ports, as far as
teardown is concerned: the emulator, demo/prepare.yml, and playbooks/provision.yml
through the demo inventory, whose wait for SSH starts the instance's twin. Then
playbooks/teardown.yml, then `make destroy` (scripts/demo.sh down).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, demo, demo_settings, ec2_client, read_json

from tests.support.playbook import run_command, run_playbook

# Not a prefix of another demo's name: scripts/demo.sh down removes the containers sod-<name>-*.
DEPLOYMENT = "e2edown"
STATE_DIR = PROJECT / ".cache" / DEPLOYMENT
SETTINGS = demo_settings(DEPLOYMENT, STATE_DIR, 18621, 18631)
TAG_FILTER = [{"Name": "tag:streamlit_ops_deployment", "Values": [DEPLOYMENT]}]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def containers() -> str:
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sod-{DEPLOYMENT}-"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def deployed() -> Iterator[Path]:
    """One instance of the deployment, with its twin, its installer server and its emulator; removed after."""
    demo("down", settings=SETTINGS)  # what an interrupted run left
    STATE_DIR.mkdir(mode=0o700, parents=True)
    try:
        start = run_command(
            ["python", "-m", "tests.support.moto", "start", "--state-dir", str(STATE_DIR / "moto")],
            env=SETTINGS,
            isolated=True,
            cwd=PROJECT,
        )
        assert start.rc == 0, start.output[-3000:]
        for playbook in ("demo/prepare.yml", "playbooks/provision.yml"):
            done = run_playbook(playbook, inventory="demo/inventory", env=SETTINGS, isolated=True, cwd=PROJECT)
            assert done.rc == 0, done.output[-3000:]
        assert [twin["instance_id"] for twin in read_json(STATE_DIR / "twins.json").values()] != []
        yield STATE_DIR
    finally:
        demo("down", settings=SETTINGS)


@pytest.fixture(scope="module")
def torn_down(deployed: Path) -> dict[str, Any]:
    """What the emulator holds of the deployment after playbooks/teardown.yml."""
    done = run_playbook("playbooks/teardown.yml", inventory="demo/inventory", env=SETTINGS, isolated=True)
    assert done.rc == 0, done.output[-3000:]
    ec2 = ec2_client(deployed)
    live = ["pending", "running", "stopping", "stopped", "shutting-down"]
    return {
        "reservations": ec2.describe_instances(Filters=[*TAG_FILTER, {"Name": "instance-state-name", "Values": live}])[
            "Reservations"
        ],
        "groups": ec2.describe_security_groups(Filters=TAG_FILTER)["SecurityGroups"],
        "keys": ec2.describe_key_pairs(Filters=TAG_FILTER)["KeyPairs"],
    }


@pytest.fixture(scope="module")
def destroyed(deployed: Path, torn_down: dict[str, Any]) -> dict[str, Any]:
    """What is left after `make destroy` of the torn-down deployment, and whether its emulator answered before."""
    moto_port = int(read_json(deployed / "moto" / "moto.json")["port"])
    answered = answers(moto_port)
    done = demo("down", settings=SETTINGS)
    assert done.rc == 0, done.output[-3000:]
    return {"answered_before": answered, "moto_port": moto_port, "containers": containers()}


def test_teardown_removes_every_tagged_aws_resource(torn_down: dict[str, Any]) -> None:
    assert torn_down["reservations"] == []
    assert torn_down["groups"] == []
    assert torn_down["keys"] == []


def test_destroy_leaves_no_container_emulator_or_key(destroyed: dict[str, Any]) -> None:
    assert destroyed["answered_before"]
    assert destroyed["containers"] == ""
    assert not STATE_DIR.exists()
    assert not answers(destroyed["moto_port"])
