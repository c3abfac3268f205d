"""A private key given by mistake as the public key is refused without ever being shown.

ec2_launch reads the key to import (ec2_launch_public_key_file, or its content in
ec2_launch_public_key) on the controller; a private key there must be refused
before any AWS call, with a message that says so, and at -vvv no line of it may
reach the output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support.playbook import Run, run_playbook


@pytest.fixture(scope="module")
def private_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("operator") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def provision(extra: dict[str, object], cwd: Path) -> Run:
    inputs = {
        "ec2_launch_name": "secret-check",
        "ec2_launch_region": "us-east-1",
        "ec2_launch_ssh_cidrs": ["203.0.113.7/32"],
        # Nothing listens here: reaching AWS at all would be a failure of its own kind.
        "ec2_launch_endpoint_url": "http://127.0.0.1:9",
        "ec2_launch_known_hosts_file": str(cwd / "known_hosts"),
        **extra,
    }
    return run_playbook(
        "playbooks/provision.yml",
        extra_vars=inputs,
        options=["-vvv"],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"},
        isolated=True,
    )


def body_lines(private_key: Path) -> list[str]:
    return [line for line in private_key.read_text().splitlines() if line and "PRIVATE KEY" not in line]


@pytest.mark.parametrize("given_as", ["ec2_launch_public_key_file", "ec2_launch_public_key"])
def test_a_private_key_given_as_the_public_key_is_refused_unseen(private_key: Path, given_as: str) -> None:
    value = str(private_key) if given_as == "ec2_launch_public_key_file" else private_key.read_text()
    result = provision({given_as: value}, private_key.parent)
    output = result.output
    assert result.rc != 0
    assert "looks like a PRIVATE key" in output
    assert given_as in output
    assert "Ask AWS whose credentials these are" not in output  # refused before any AWS call
    assert [line for line in body_lines(private_key) if line in output] == []
