"""First contact over SSH: the host keys were pinned before it, and nothing else is accepted.

ec2_launch hands each instance a host key it made on the controller (cloud-init's
ssh_keys in the user data) and writes it to known_hosts before the first SSH;
the twins apply that user data as cloud-init does; the demo's ssh_config checks
host keys strictly. So the converge reached each twin without trusting a first
connection, and a twin showing another key is refused.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.twins import wait_for_sshd

USER = "admin"  # the default user of Debian's images, which the twins copy


def pinned_key(ec2: Any, instance_id: str) -> str:
    value = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    key: str = yaml.safe_load(base64.b64decode(value))["ssh_keys"]["ed25519_public"]
    return " ".join(key.split()[:2])


def ssh(state_dir: Path, address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-F", str(state_dir / "ssh_config"), "-o", "BatchMode=yes", f"{USER}@{address}", "echo", "reached"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_the_demo_checks_host_keys_strictly(state_dir: Path) -> None:
    options = [line.split() for line in (state_dir / "ssh_config").read_text().splitlines() if line.strip()]
    settings = {words[0]: words[1:] for words in options if not words[0].startswith("#")}
    assert settings["StrictHostKeyChecking"] == ["yes"]
    assert settings["UserKnownHostsFile"] == [str(state_dir / "known_hosts")]


def test_known_hosts_holds_exactly_the_keys_from_the_user_data(
    state_dir: Path, twins: dict[str, dict[str, Any]], ec2: Any
) -> None:
    lines = sorted(line for line in (state_dir / "known_hosts").read_text().splitlines() if line)
    expected = sorted(f"{address} {pinned_key(ec2, twin['instance_id'])}" for address, twin in twins.items())
    assert lines == expected


def test_each_twin_serves_the_host_key_from_its_user_data(twins: dict[str, dict[str, Any]], ec2: Any) -> None:
    for twin in twins.values():
        served = subprocess.run(
            ["docker", "exec", twin["container"], "cat", "/etc/ssh/ssh_host_ed25519_key.pub"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert " ".join(served.split()[:2]) == pinned_key(ec2, twin["instance_id"])


@pytest.fixture
def impostor(twins: dict[str, dict[str, Any]]) -> Iterator[str]:
    """The last twin, given a host key of its own, as a machine in the instance's place would have.

    Its own keys (those of the user data) are put back afterwards, so the deployment is as
    the converge left it for every other test.
    """
    address, twin = sorted(twins.items())[-1]
    container = twin["container"]
    keys = docker_exec(container, "tar -C /etc/ssh -cf - $(cd /etc/ssh && ls ssh_host_*)")
    docker_exec(container, "rm -f /etc/ssh/ssh_host_*; ssh-keygen -A -q; systemctl restart ssh")
    try:
        yield address
    finally:
        docker_exec(container, "rm -f /etc/ssh/ssh_host_*; tar -C /etc/ssh -xpf -; systemctl restart ssh", keys)
        wait_for_sshd(container)


def docker_exec(container: str, script: str, given: bytes = b"") -> bytes:
    """Run a shell SCRIPT as root in CONTAINER, GIVEN on its standard input; what it printed."""
    done = subprocess.run(
        ["docker", "exec", "-i", container, "sh", "-ec", script], input=given, capture_output=True, check=True
    )
    return done.stdout


def test_a_pinned_twin_is_reached_with_strict_checking(state_dir: Path, twins: dict[str, dict[str, Any]]) -> None:
    address = sorted(twins)[0]
    result = ssh(state_dir, address)
    assert (result.returncode, result.stdout.strip()) == (0, "reached"), result.stderr


def test_a_twin_showing_another_host_key_is_refused(state_dir: Path, impostor: str) -> None:
    result = ssh(state_dir, impostor)
    assert result.returncode == 255
    assert "reached" not in result.stdout
    assert "Host key verification failed" in result.stderr
