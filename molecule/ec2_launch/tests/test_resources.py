"""The converged deployment, as the EC2 API sees it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import DEBIAN_OWNER, EPHEMERAL, inputs, instances, user_data

DEPLOYMENT = inputs()["ec2_launch_name"]


@pytest.fixture(scope="module")
def instance(ec2: Any) -> dict[str, Any]:
    return instances(ec2, DEPLOYMENT)[0]


@pytest.fixture(scope="module")
def group(ec2: Any, instance: dict[str, Any]) -> dict[str, Any]:
    group_id = instance["SecurityGroups"][0]["GroupId"]
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def test_the_deployment_runs_exactly_one_instance(ec2: Any) -> None:
    assert len(instances(ec2, DEPLOYMENT)) == 1


def test_the_instance_has_the_requested_type(instance: dict[str, Any]) -> None:
    assert instance["InstanceType"] == "t3.micro"


def test_the_instance_runs_the_newest_debian_13_image_by_default(ec2: Any, instance: dict[str, Any]) -> None:
    images = ec2.describe_images(Owners=[DEBIAN_OWNER], Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])[
        "Images"
    ]
    newest = max(images, key=lambda image: image["Name"])
    assert len(images) > 1
    assert instance["ImageId"] == newest["ImageId"]


def test_the_instance_carries_name_ownership_user_and_extra_tags(instance: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in instance["Tags"]}
    assert tags == {
        "Name": DEPLOYMENT,
        "streamlit_ops_deployment": DEPLOYMENT,
        "streamlit_ops_managed_by": "streamlit_ops.deploy",
        "streamlit_ops_ssh_user": "admin",
        "team": "data",
        "cost-center": "42",
    }


@pytest.fixture(scope="module")
def cloud_config(ec2: Any, instance: dict[str, Any]) -> dict[str, Any]:
    text = user_data(ec2, instance["InstanceId"])
    assert text.startswith("#cloud-config\n")
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def test_the_user_data_hands_the_instance_a_host_key_made_on_the_controller(cloud_config: dict[str, Any]) -> None:
    keys = cloud_config["ssh_keys"]
    assert keys["ed25519_private"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert keys["ed25519_public"].startswith("ssh-ed25519 ")
    assert cloud_config["ssh_deletekeys"] is True


def test_the_host_key_is_pinned_in_known_hosts_for_the_instances_address(
    cloud_config: dict[str, Any], instance: dict[str, Any]
) -> None:
    lines = (EPHEMERAL / "known_hosts").read_text().splitlines()
    expected = f"{instance['PublicIpAddress']} {' '.join(cloud_config['ssh_keys']['ed25519_public'].split()[:2])}"
    assert expected in lines


def test_the_instance_requires_imdsv2_tokens(instance: dict[str, Any]) -> None:
    assert instance["MetadataOptions"]["HttpTokens"] == "required"


def test_the_root_volume_is_encrypted_gp3_of_the_requested_size(ec2: Any, instance: dict[str, Any]) -> None:
    root = next(m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"])
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert (volume["Encrypted"], volume["VolumeType"], volume["Size"]) == (True, "gp3", 12)


def test_the_instance_has_a_public_address(instance: dict[str, Any]) -> None:
    assert instance.get("PublicIpAddress")


def test_the_security_group_opens_ssh_https_to_app_cidrs_and_http_to_everyone_for_acme(
    group: dict[str, Any],
) -> None:
    rules = sorted(
        (
            rule["IpProtocol"],
            rule["FromPort"],
            rule["ToPort"],
            tuple(sorted(r["CidrIp"] for r in rule.get("IpRanges", []))),
            tuple(sorted(r["CidrIpv6"] for r in rule.get("Ipv6Ranges", []))),
        )
        for rule in group["IpPermissions"]
    )
    # AWS merges the IPv4 and IPv6 ranges of one port into one permission. The front
    # door is on and gets its certificate by ACME (the defaults): Streamlit's port stays shut.
    assert rules == [
        ("tcp", 22, 22, ("203.0.113.7/32",), ("2001:db8:7::/48",)),
        ("tcp", 80, 80, ("0.0.0.0/0",), ("::/0",)),
        ("tcp", 443, 443, ("198.51.100.0/24",), ()),
    ]


def test_the_security_group_is_tagged_as_the_deployments(group: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in group["Tags"]}
    assert tags["streamlit_ops_deployment"] == DEPLOYMENT


def test_the_instance_uses_the_deployment_key_pair(instance: dict[str, Any]) -> None:
    assert instance["KeyName"] == DEPLOYMENT


def test_the_key_pair_holds_the_operators_public_key(ec2: Any) -> None:
    public_key = (EPHEMERAL / "id_ed25519.pub").read_text()
    key = ec2.describe_key_pairs(KeyNames=[DEPLOYMENT], IncludePublicKey=True)["KeyPairs"][0]
    assert key["PublicKey"].split()[:2] == public_key.split()[:2]


def test_the_key_pair_is_tagged_as_created_by_the_collection(ec2: Any) -> None:
    key = ec2.describe_key_pairs(KeyNames=[DEPLOYMENT])["KeyPairs"][0]
    tags = {tag["Key"]: tag["Value"] for tag in key["Tags"]}
    assert tags["streamlit_ops_managed_by"] == "streamlit_ops.deploy"
