"""The amazon.aws.aws_ec2 inventory (inventories/local) lists the deployment's hosts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import PROJECT, REGION, inputs, instances, moto_url, run

DEPLOYMENT = inputs()["ec2_launch_name"]


@pytest.fixture(scope="module")
def inventory() -> dict[str, Any]:
    result = run(
        ["ansible-inventory", "-i", str(PROJECT / "inventories" / "local" / "streamlit_aws_ec2.yml"), "--list"],
        env={"AWS_URL": moto_url(), "AWS_REGION": REGION, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"},
    )
    assert result.rc == 0, result.output[-3000:]
    return json.loads(result.stdout)


def plain(value: Any) -> Any:
    """ansible-inventory marks values from AWS as unsafe: {"__ansible_unsafe": value}."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_the_deployment_group_lists_the_running_instances(ec2: Any, inventory: dict[str, Any]) -> None:
    expected = sorted(i["InstanceId"] for i in instances(ec2, DEPLOYMENT))
    assert sorted(inventory["deployment_molecule_ec2"]["hosts"]) == expected


def test_the_streamlit_servers_group_includes_the_deployment(ec2: Any, inventory: dict[str, Any]) -> None:
    expected = {i["InstanceId"] for i in instances(ec2, DEPLOYMENT)}
    assert expected <= set(inventory["streamlit_servers"]["hosts"])


def test_ansible_host_is_the_public_address(ec2: Any, inventory: dict[str, Any]) -> None:
    instance = instances(ec2, DEPLOYMENT)[0]
    assert plain(inventory["_meta"]["hostvars"][instance["InstanceId"]]["ansible_host"]) == instance["PublicIpAddress"]


def test_ansible_user_comes_from_the_ssh_user_tag(ec2: Any, inventory: dict[str, Any]) -> None:
    instance = instances(ec2, DEPLOYMENT)[0]
    assert plain(inventory["_meta"]["hostvars"][instance["InstanceId"]]["ansible_user"]) == "admin"


def test_an_instance_with_only_the_deployment_tag_is_not_listed(stranger: str, inventory: dict[str, Any]) -> None:
    assert stranger not in inventory["_meta"]["hostvars"]


def test_the_region_comes_from_the_environment() -> None:
    result = run(
        ["ansible-inventory", "-i", str(PROJECT / "inventories" / "local" / "streamlit_aws_ec2.yml"), "--list"],
        env={"AWS_URL": moto_url(), "AWS_REGION": "eu-west-1", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"},
    )
    assert result.rc == 0, result.output[-3000:]
    assert json.loads(result.stdout)["_meta"]["hostvars"] == {}


def test_no_region_in_the_environment_fails_instead_of_guessing() -> None:
    result = run(
        ["ansible-inventory", "-i", str(PROJECT / "inventories" / "local" / "streamlit_aws_ec2.yml"), "--list"],
        env={
            "AWS_URL": moto_url(),
            "AWS_REGION": None,
            "AWS_DEFAULT_REGION": None,
            "STREAMLIT_OPS_AWS_REGION": None,
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        },
    )
    assert result.rc != 0


def test_an_unreachable_endpoint_fails_instead_of_listing_nothing() -> None:
    result = run(
        ["ansible-inventory", "-i", str(PROJECT / "inventories" / "local" / "streamlit_aws_ec2.yml"), "--list"],
        env={
            "AWS_URL": "http://127.0.0.1:9",
            "AWS_REGION": REGION,
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
            "AWS_MAX_ATTEMPTS": "1",
        },
    )
    assert result.rc != 0
