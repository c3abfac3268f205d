"""teardown.yml removes exactly one deployment's resources, found by its tags."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from conftest import inputs, instances


@pytest.fixture(scope="module")
def life(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    return sequences["lifecycle"].result()


@pytest.fixture(scope="module")
def borrowed(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    return sequences["borrowed"].result()


def test_provisioning_with_a_created_key_launches_two_instances(life: dict[str, Any]) -> None:
    assert (life["provision"].rc, len(life["launched"])) == (0, 2), life["provision"].output[-3000:]


def test_the_created_private_key_is_written_with_mode_0600(life: dict[str, Any]) -> None:
    assert life["key_mode"] == 0o600


def test_the_created_private_key_never_reaches_the_output(life: dict[str, Any]) -> None:
    body = [line for line in life["key_text"].splitlines() if line and "PRIVATE KEY" not in line]
    assert body, "the private key file is empty"
    assert all(line not in life["provision"].output for line in body)
    assert "PRIVATE KEY" not in life["provision"].output


def test_no_private_host_key_reaches_the_output_at_vvv(life: dict[str, Any]) -> None:
    assert "ESTABLISH LOCAL CONNECTION" in life["provision"].output  # it did run at -vvv
    # Every OpenSSH private key's body starts with this (base64 of "openssh-key-v1").
    assert "b3BlbnNzaC1rZXktdjE" not in life["provision"].output


def test_provision_pins_each_instances_host_key(life: dict[str, Any]) -> None:
    pinned = {line.split()[0] for line in life["known_hosts"].splitlines() if line}
    assert pinned == {instance["PublicIpAddress"] for instance in life["launched"]}


def test_teardown_forgets_the_pinned_host_keys(life: dict[str, Any]) -> None:
    assert life["known_hosts_after_teardown"].strip() == ""


def test_scaling_ignores_an_instance_with_only_the_deployment_tag(life: dict[str, Any]) -> None:
    assert (life["provision"].rc, len(life["launched"]), life["stranger_after_provision"]) == (0, 2, "running")


def test_teardown_leaves_an_instance_with_only_the_deployment_tag_alone(life: dict[str, Any]) -> None:
    assert (life["teardown"].rc, life["stranger_after_teardown"]) == (0, "running")


def test_teardown_succeeds(life: dict[str, Any]) -> None:
    assert life["teardown"].rc == 0, life["teardown"].output[-3000:]


def test_teardown_leaves_no_instance_of_the_deployment_alive(life: dict[str, Any]) -> None:
    assert life["left_instances"] == []


def test_teardown_deletes_the_deployments_security_group(life: dict[str, Any]) -> None:
    assert life["left_groups"] == []


def test_teardown_deletes_the_key_pair_the_collection_created(life: dict[str, Any]) -> None:
    assert life["left_keys"] == []


def test_teardown_run_again_changes_nothing(life: dict[str, Any]) -> None:
    assert (life["teardown_again"].rc, life["teardown_again"].changed()) == (0, 0)


def test_teardown_leaves_other_deployments_running(ec2: Any, life: dict[str, Any]) -> None:
    assert life["teardown"].rc == 0
    assert len(instances(ec2, inputs()["ec2_launch_name"])) == 1


def test_teardown_keeps_a_key_pair_the_collection_did_not_create(borrowed: dict[str, Any]) -> None:
    assert (borrowed["provision"].rc, len(borrowed["launched"]), borrowed["teardown"].rc) == (0, 1, 0)
    assert "operator-key" in borrowed["keys"]
