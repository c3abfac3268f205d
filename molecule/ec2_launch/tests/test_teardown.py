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


def test_teardown_succeeds(life: dict[str, Any]) -> None:
    assert life["teardown"].rc == 0, life["teardown"].output[-3000:]


def test_teardown_leaves_no_instance_of_the_deployment_alive(life: dict[str, Any]) -> None:
    assert life["left_instances"] == []


def test_teardown_deletes_the_deployments_security_group(life: dict[str, Any]) -> None:
    assert life["left_groups"] == []


def test_teardown_deletes_the_key_pair_the_collection_created(life: dict[str, Any]) -> None:
    assert life["left_keys"] == []


def test_teardown_run_again_changes_nothing(life: dict[str, Any]) -> None:
    assert (life["teardown_again"].rc, life["teardown_again"].recap("changed")) == (0, 0)


def test_teardown_leaves_other_deployments_running(ec2: Any, life: dict[str, Any]) -> None:
    assert life["teardown"].rc == 0
    assert len(instances(ec2, inputs()["ec2_launch_name"])) == 1


def test_teardown_keeps_a_key_pair_the_collection_did_not_create(borrowed: dict[str, Any]) -> None:
    assert (borrowed["provision"].rc, len(borrowed["launched"]), borrowed["teardown"].rc) == (0, 1, 0)
    assert "operator-key" in borrowed["keys"]
