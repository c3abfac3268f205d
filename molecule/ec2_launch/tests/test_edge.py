"""The front door's ports, Elastic IPs and the Route 53 record, as the EC2 and Route 53 APIs see them."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from conftest import (
    FOREIGN_ADDRESS,
    MARKER_PREFIX,
    REGION,
    ZONE,
    edge,
    elastic_ips,
    group_hosts,
    inputs,
    instances,
    records,
)

DEPLOYMENT = inputs()["ec2_launch_name"]
DOMAIN = edge()["ec2_launch_domain"]


def ports(group: dict[str, Any]) -> list[tuple[int, list[str], list[str]]]:
    """(port, IPv4 ranges, IPv6 ranges) of each permission of a security group."""
    return sorted(
        (
            rule["FromPort"],
            sorted(r["CidrIp"] for r in rule.get("IpRanges", [])),
            sorted(r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])),
        )
        for rule in group["IpPermissions"]
    )


def marker(deployment: str) -> list[str]:
    return [f'"streamlit_ops_managed_by=streamlit_ops.deploy streamlit_ops_deployment={deployment} region={REGION}"']


# The converged deployment (converge.yml): one instance, an Elastic IP, app.molecule.test.


@pytest.fixture(scope="module")
def instance(ec2: Any) -> dict[str, Any]:
    (found,) = instances(ec2, DEPLOYMENT)
    return found


@pytest.fixture(scope="module")
def address(ec2: Any) -> dict[str, Any]:
    (found,) = elastic_ips(ec2, DEPLOYMENT)
    return found


def test_the_instance_has_an_elastic_ip_tagged_with_both_ownership_tags(address: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in address["Tags"]}
    assert {key: tags.get(key) for key in ("Name", "streamlit_ops_deployment", "streamlit_ops_managed_by")} == {
        "Name": DEPLOYMENT,
        "streamlit_ops_deployment": DEPLOYMENT,
        "streamlit_ops_managed_by": "streamlit_ops.deploy",
    }


def test_the_elastic_ip_is_the_instances_public_address(address: dict[str, Any], instance: dict[str, Any]) -> None:
    assert (address["InstanceId"], address["PublicIp"]) == (instance["InstanceId"], instance["PublicIpAddress"])


def test_the_domain_points_at_the_elastic_ip(route53: Any, zone_id: str, address: dict[str, Any]) -> None:
    assert records(route53, zone_id, DOMAIN) == {"A": [address["PublicIp"]]}


def test_an_ownership_record_beside_the_domain_names_the_deployment(route53: Any, zone_id: str) -> None:
    assert records(route53, zone_id, MARKER_PREFIX + DOMAIN) == {"TXT": marker(DEPLOYMENT)}


def test_the_security_group_notes_the_record_the_deployment_keeps(
    ec2: Any, instance: dict[str, Any], zone_id: str
) -> None:
    (group,) = ec2.describe_security_groups(GroupIds=[instance["SecurityGroups"][0]["GroupId"]])["SecurityGroups"]
    tags = {tag["Key"]: tag["Value"] for tag in group["Tags"]}
    assert tags["streamlit_ops_dns_record"] == f"{zone_id}/{DOMAIN}"


# Front door off (the survey deployment) and a provided certificate (the scaling one).


def test_without_the_front_door_only_ssh_and_the_app_port_are_open(sequences: dict[str, Future[Any]]) -> None:
    (group,) = sequences["survey"].result()["groups"]
    assert [port for port, _, _ in ports(group)] == [22, 8502]


def test_with_a_provided_certificate_http_is_open_to_the_app_cidrs_only(scale: dict[str, Any]) -> None:
    (group,) = scale["groups_up3"]
    assert ports(group)[1:] == [(80, ["198.51.100.0/24"], []), (443, ["198.51.100.0/24"], [])]


# Scaling molecule-scale 1 -> 3 -> 1 with Elastic IPs and scale.molecule.test, then the Elastic IPs off.


@pytest.fixture(scope="module")
def scale(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    result: dict[str, Any] = sequences["scaling"].result()
    for step in ("up1", "up3", "down1", "off1"):
        assert result[step].rc == 0, result[step].output[-3000:]
    return result


def test_each_instance_gets_an_elastic_ip_of_its_own(scale: dict[str, Any]) -> None:
    assert sorted(scale["eips_up3"].values()) == scale["ids_up3"]


def test_the_hosts_added_to_the_group_are_reached_at_their_elastic_ips(scale: dict[str, Any]) -> None:
    assert group_hosts(scale["up3"]) == {instance: ip for ip, instance in scale["eips_up3"].items()}


def test_the_domain_points_at_every_instances_elastic_ip(scale: dict[str, Any]) -> None:
    assert scale["record_up3"]["A"] == sorted(scale["eips_up3"])


def test_scaling_down_releases_the_elastic_ips_of_terminated_instances(scale: dict[str, Any]) -> None:
    kept = scale["eips_down1"]
    released = set(scale["eips_up3"]) - set(kept)
    assert (list(kept.values()), len(released)) == (scale["ids_down1"], 2)
    assert set(kept) <= set(scale["eips_up3"])
    assert not released & set(scale["all_addresses"])


def test_scaling_down_leaves_the_domain_pointing_at_the_remaining_instance(scale: dict[str, Any]) -> None:
    assert scale["record_down1"]["A"] == sorted(scale["eips_down1"])


def test_turning_elastic_ips_off_releases_them_and_the_domain_follows_the_new_address(scale: dict[str, Any]) -> None:
    (public,) = scale["public_off1"]
    assert scale["eips_off1"] == {}
    assert not set(scale["eips_down1"]) & set(scale["all_addresses"])
    assert public not in scale["eips_down1"]
    assert group_hosts(scale["off1"]) == {scale["ids_off1"][0]: public}
    assert scale["record_off1"]["A"] == [public]


# The lifecycle deployment: two instances, a stop and start, teardown.


@pytest.fixture(scope="module")
def life(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    result: dict[str, Any] = sequences["lifecycle"].result()
    assert result["provision"].rc == 0, result["provision"].output[-3000:]
    return result


def test_every_instance_of_the_deployment_has_its_elastic_ip(life: dict[str, Any]) -> None:
    assert sorted(life["eips"].values()) == sorted(i["InstanceId"] for i in life["launched"])


def test_one_record_names_all_the_instances_addresses(life: dict[str, Any]) -> None:
    assert (life["record"], life["marker"]) == ({"A": sorted(life["eips"])}, {"TXT": marker("molecule-life")})


def test_a_stopped_and_started_instance_keeps_its_elastic_ip_and_the_run_changes_nothing(life: dict[str, Any]) -> None:
    again = life["after_restart"]
    assert (again.rc, again.changed()) == (0, 0), again.output[-3000:]
    assert life["eips_after_restart"] == life["eips"]
    assert life["record_after_restart"] == life["record"]


def test_after_a_stop_and_start_the_instance_is_still_reached_at_its_elastic_ip(life: dict[str, Any]) -> None:
    # moto gives a stopped and started instance a new PublicIpAddress although its
    # Elastic IP stays associated (AWS keeps the Elastic IP as the public address):
    # the role takes the address from the association, as AWS shows it.
    address = next(ip for ip, instance in life["eips"].items() if instance == life["restarted"])
    assert group_hosts(life["after_restart"])[life["restarted"]] == address


def test_teardown_releases_every_elastic_ip_of_the_deployment(life: dict[str, Any]) -> None:
    assert life["teardown"].rc == 0, life["teardown"].output[-3000:]
    assert life["left_eips"] == []
    assert not set(life["eips"]) & set(life["all_addresses"])


def test_teardown_leaves_an_elastic_ip_with_only_the_deployment_tag_alone(life: dict[str, Any]) -> None:
    assert life["stray_after_teardown"]


def test_teardown_removes_the_record_and_its_ownership_record(life: dict[str, Any]) -> None:
    assert (life["record_after_teardown"], life["marker_after_teardown"]) == ({}, {})


def test_teardown_leaves_a_record_made_by_hand_in_the_same_zone_alone(life: dict[str, Any]) -> None:
    assert life["foreign_after_teardown"] == {"A": [FOREIGN_ADDRESS]}


# A name someone else's record holds.


@pytest.fixture(scope="module")
def foreign(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    result: dict[str, Any] = sequences["foreign"].result()
    return result


def test_a_record_made_by_hand_is_refused_naming_the_domain(foreign: dict[str, Any]) -> None:
    said = " ".join(foreign["provision"].output.split())
    assert foreign["provision"].rc != 0
    assert f"ec2_launch_domain 'taken.{ZONE}'" in said
    assert "did not create" in said


def test_a_record_made_by_hand_is_left_as_it_was(foreign: dict[str, Any]) -> None:
    assert foreign["record"] == {"A": [FOREIGN_ADDRESS]}


def test_nothing_is_created_when_the_name_is_refused(foreign: dict[str, Any]) -> None:
    assert (foreign["groups"], foreign["instances"], foreign["eips"]) == ([], [], [])
