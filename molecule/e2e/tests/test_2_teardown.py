"""Teardown leaves nothing of the deployment: no AWS resource, no twin, no emulator, no key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

from conftest import DEPLOYMENT, PROJECT, STATE_DIR

TAG_FILTER = [{"Name": "tag:streamlit_ops_deployment", "Values": [DEPLOYMENT]}]


def ansible_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_CONFIG"] = str(PROJECT / "ansible.cfg")
    env.update(SOD_DEMO_NAME=DEPLOYMENT, SOD_DEMO_STATE_DIR=str(STATE_DIR))
    return env


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def test_teardown_removes_every_tagged_aws_resource(ec2: Any) -> None:
    subprocess.run(
        ["ansible-playbook", "-i", "demo/inventory", "playbooks/teardown.yml"],
        cwd=PROJECT,
        env=ansible_env(),
        check=True,
        capture_output=True,
    )
    live = ["pending", "running", "stopping", "stopped", "shutting-down"]
    reservations = ec2.describe_instances(Filters=[*TAG_FILTER, {"Name": "instance-state-name", "Values": live}])
    assert reservations["Reservations"] == []
    assert ec2.describe_security_groups(Filters=TAG_FILTER)["SecurityGroups"] == []
    assert ec2.describe_key_pairs(Filters=TAG_FILTER)["KeyPairs"] == []


def test_destroy_leaves_no_container_emulator_or_key(state_dir: Path) -> None:
    moto_port = int(json.loads((state_dir / "moto" / "moto.json").read_text())["port"])
    assert answers(moto_port)
    subprocess.run(["scripts/demo.sh", "down"], cwd=PROJECT, env=ansible_env(), check=True, capture_output=True)
    containers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sod-{DEPLOYMENT}-"], capture_output=True, text=True, check=True
    )
    assert containers.stdout.strip() == ""
    assert not state_dir.exists()
    assert not answers(moto_port)
