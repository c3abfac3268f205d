"""Fixtures for the ec2_launch scenario: the moto server, boto3, and playbook runs.

Every assertion goes through the EC2 API of the moto server the scenario's
create.yml started. The playbook runs the tests need are grouped into
independent sequences (one deployment each) that run concurrently, so the
suite's wall time is the longest sequence, not their sum.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCENARIO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DEPLOYMENT_TAG = "streamlit_ops_deployment"
MANAGED_BY_TAG = "streamlit_ops_managed_by"
LIVE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]


@dataclass(frozen=True)
class Run:
    """One ansible-playbook (or ansible-inventory) run: its exit code, output and duration."""

    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self, key: str) -> int:
        match = re.search(rf"localhost\s+:.*?\b{key}=(\d+)", self.output)
        assert match, f"no PLAY RECAP in:\n{self.output[-3000:]}"
        return int(match.group(1))


def moto_url() -> str:
    state = json.loads((EPHEMERAL / "moto" / "moto.json").read_text())
    return f"http://127.0.0.1:{state['port']}"


def inputs() -> dict[str, Any]:
    return yaml.safe_load((SCENARIO / "vars" / "inputs.yml").read_text())


def run(command: list[str], env: dict[str, str | None] | None = None) -> Run:
    """Run a command from the project root; env entries set to None are removed."""
    merged = {**os.environ, **(env or {})}
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=PROJECT,
        env={key: value for key, value in merged.items() if value is not None},
        capture_output=True,
        text=True,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def playbook(name: str, extra: dict[str, Any], *, check: bool = False, env: dict[str, str | None] | None = None) -> Run:
    """Run one of the collection's playbooks with the scenario inputs, pointed at moto."""
    variables = {**inputs(), "ec2_launch_endpoint_url": moto_url(), **extra}
    command = ["ansible-playbook", str(PROJECT / "playbooks" / f"{name}.yml"), "-e", json.dumps(variables)]
    return run([*command, "--check"] if check else command, env)


def probe(extra: dict[str, Any]) -> Run:
    """Run provision.yml followed by a play that prints the in-memory group as JSON."""
    variables = {**inputs(), "ec2_launch_endpoint_url": moto_url(), **extra}
    return run(["ansible-playbook", str(SCENARIO / "tests" / "group_probe.yml"), "-e", json.dumps(variables)])


def group_members(result: Run) -> list[str]:
    match = re.search(r"GROUP=(\[.*?\])", result.output)
    assert match, f"no group report in:\n{result.output[-3000:]}"
    return sorted(json.loads(match.group(1)))


@pytest.fixture(scope="session")
def ec2() -> Any:
    return boto3.client("ec2", endpoint_url=moto_url(), region_name=REGION)


@pytest.fixture(scope="session")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


@pytest.fixture(scope="session")
def hung_endpoint() -> Iterator[str]:
    """A loopback TCP listener that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for connection in held:
        connection.close()


def instances(ec2: Any, deployment: str, states: list[str] | None = None) -> list[dict[str, Any]]:
    filters = [
        {"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]},
        {"Name": "instance-state-name", "Values": states or ["pending", "running"]},
    ]
    pages = ec2.describe_instances(Filters=filters)["Reservations"]
    return [instance for reservation in pages for instance in reservation["Instances"]]


def tagged(ec2: Any, deployment: str, describe: str, key: str) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]}]
    return getattr(ec2, describe)(Filters=filters)[key]


def ids(found: list[dict[str, Any]]) -> list[str]:
    return sorted(instance["InstanceId"] for instance in found)


def scaling(ec2: Any) -> dict[str, Any]:
    """Deployment molecule-scale: count 1 -> 3 -> 1, the API's view after each run."""
    extra = {"ec2_launch_name": "molecule-scale"}
    result: dict[str, Any] = {}
    for step, count in (("up1", 1), ("up3", 3), ("down1", 1)):
        result[step] = probe({**extra, "ec2_launch_count": count})
        result[f"ids_{step}"] = ids(instances(ec2, "molecule-scale"))
    return result


def lifecycle(ec2: Any, key_file: Path) -> dict[str, Any]:
    """Deployment molecule-life: two instances with an AWS-created key, then teardown twice."""
    extra = {
        "ec2_launch_name": "molecule-life",
        "ec2_launch_count": 2,
        "ec2_launch_key_mode": "create",
        "ec2_launch_private_key_file": str(key_file),
    }
    result: dict[str, Any] = {"provision": playbook("provision", extra)}
    result["launched"] = instances(ec2, "molecule-life")
    result["key_mode"] = key_file.stat().st_mode & 0o777 if key_file.exists() else None
    result["key_text"] = key_file.read_text() if key_file.exists() else ""
    result["teardown"] = playbook("teardown", extra)
    result["left_instances"] = instances(ec2, "molecule-life", LIVE_STATES)
    result["left_groups"] = tagged(ec2, "molecule-life", "describe_security_groups", "SecurityGroups")
    result["left_keys"] = tagged(ec2, "molecule-life", "describe_key_pairs", "KeyPairs")
    result["teardown_again"] = playbook("teardown", extra)
    return result


def borrowed(ec2: Any) -> dict[str, Any]:
    """Deployment molecule-borrowed: uses a key pair the operator made, then is torn down."""
    if not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["operator-key"]}])["KeyPairs"]:
        ec2.create_key_pair(KeyName="operator-key", KeyType="ed25519")
    extra = {
        "ec2_launch_name": "molecule-borrowed",
        "ec2_launch_key_mode": "existing",
        "ec2_launch_key_name": "operator-key",
    }
    result: dict[str, Any] = {"provision": playbook("provision", extra)}
    result["launched"] = instances(ec2, "molecule-borrowed")
    result["teardown"] = playbook("teardown", extra)
    result["keys"] = [key["KeyName"] for key in ec2.describe_key_pairs()["KeyPairs"]]
    return result


@pytest.fixture(scope="session")
def sequences(ec2: Any, pool: ThreadPoolExecutor, hung_endpoint: str) -> dict[str, Future[Any]]:
    """Start every independent playbook sequence at once; tests wait for the one they need."""
    no_credentials: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        "AWS_CONFIG_FILE": "/nonexistent/config",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    key_dir = EPHEMERAL / "keys"
    key_dir.mkdir(mode=0o700, exist_ok=True)
    return {
        "scaling": pool.submit(scaling, ec2),
        "lifecycle": pool.submit(lifecycle, ec2, key_dir / "molecule-life.pem"),
        "hung": pool.submit(
            playbook, "provision", {"ec2_launch_name": "bad-hung", "ec2_launch_endpoint_url": hung_endpoint}
        ),
        "instance_type": pool.submit(
            playbook, "provision", {"ec2_launch_name": "bad-type", "ec2_launch_instance_type": "t9.micro"}
        ),
        "borrowed": pool.submit(borrowed, ec2),
        "credentials": pool.submit(playbook, "provision", {"ec2_launch_name": "bad-creds"}, env=no_credentials),
        "region": pool.submit(
            playbook, "provision", {"ec2_launch_name": "bad-region", "ec2_launch_region": "xx-nowhere-9"}
        ),
        "image": pool.submit(
            playbook, "provision", {"ec2_launch_name": "bad-ami", "ec2_launch_image_id": "ami-12345678"}
        ),
        "subnet": pool.submit(
            playbook, "provision", {"ec2_launch_name": "bad-subnet", "ec2_launch_subnet_id": "subnet-12345678"}
        ),
        "key_in_repo": pool.submit(
            playbook,
            "provision",
            {
                "ec2_launch_name": "bad-key-path",
                "ec2_launch_key_mode": "create",
                "ec2_launch_private_key_file": str(PROJECT / "molecule" / "ec2_launch" / "leaked.pem"),
            },
        ),
        "teardown_unnamed": pool.submit(
            run, ["ansible-playbook", str(PROJECT / "playbooks" / "teardown.yml"), "-e", f"ec2_launch_region={REGION}"]
        ),
        "check_mode": pool.submit(playbook, "provision", {"ec2_launch_name": "molecule-dry"}, check=True),
    }
