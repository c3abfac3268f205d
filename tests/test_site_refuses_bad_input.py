"""playbooks/site.yml refuses bad input of any role before it creates anything.

Each case runs the whole site.yml against the AWS emulator with one bad input: the run fails
naming the variable, and the emulator holds no instance, security group or key pair of the
deployment (the instances to come are checked on a placeholder in their group, so a bad
value in that group's variables is refused as well).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from .support import moto
from .support.playbook import REPO, run_playbook

NAME = "sod-site-bad-input"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
AWS_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# (extra vars, variables of the instances' group, the variable the message must name)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "an ec2_launch input": ({"ec2_launch_count": -1}, {}, "ec2_launch_count"),
    "a miniconda input": ({"miniconda_prefix": "/"}, {}, "miniconda_prefix"),
    "a streamlit_app input": ({"streamlit_app_port": 80}, {}, "streamlit_app_port"),
    "a tmux_service input passed through the app": (
        {"tmux_service_unit_extra": {"User": "root"}},
        {},
        "tmux_service_unit_extra",
    ),
    "an input in the instances' group variables": ({}, {"streamlit_app_base_dir": "/etc"}, "streamlit_app_base_dir"),
}


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto.running(tmp_path_factory.mktemp("moto")) as server:
        yield server.url


@pytest.fixture(scope="module")
def public_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key.with_suffix(".pub")


def inventory(directory: Path, group_vars: dict[str, Any]) -> Path:
    """localhost and the (empty) group the instances join, with the case's group variables."""
    (directory / "group_vars").mkdir(parents=True)
    (directory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {"localhost": {"ansible_connection": "local"}},
                    "children": {"streamlit_servers": {"hosts": {}}},
                }
            }
        )
    )
    (directory / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({"ansible_python_interpreter": "{{ ansible_playbook_python }}"})
    )
    (directory / "group_vars" / "streamlit_servers.yml").write_text(
        yaml.safe_dump({"streamlit_app_src": str(REPO / "examples" / "hello_streamlit"), **group_vars})
    )
    return directory


def deployment_resources(moto_url: str) -> list[str]:
    client = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    tag = [{"Name": "tag:streamlit_ops_deployment", "Values": [NAME]}]
    instances = [
        i["InstanceId"] for r in client.describe_instances(Filters=tag)["Reservations"] for i in r["Instances"]
    ]
    groups = [g["GroupId"] for g in client.describe_security_groups(Filters=tag)["SecurityGroups"]]
    keys = [k["KeyName"] for k in client.describe_key_pairs()["KeyPairs"] if k["KeyName"] == NAME]
    return instances + groups + keys


@pytest.mark.parametrize(("extra_vars", "group_vars", "variable"), CASES.values(), ids=CASES.keys())
def test_site_refuses_bad_input_before_creating_anything(
    tmp_path: Path,
    moto_url: str,
    public_key: Path,
    extra_vars: dict[str, Any],
    group_vars: dict[str, Any],
    variable: str,
) -> None:
    inputs = {
        "ec2_launch_name": NAME,
        "ec2_launch_region": "us-east-1",
        "ec2_launch_endpoint_url": moto_url,
        "ec2_launch_ssh_cidrs": ["203.0.113.7/32"],
        "ec2_launch_public_key_file": str(public_key),
        **extra_vars,
    }
    result = run_playbook(
        REPO / "playbooks" / "site.yml",
        inventory=inventory(tmp_path / "inventory", group_vars),
        extra_vars=inputs,
        env=AWS_ENV,
        isolated=True,
    )
    output = result.output
    assert result.rc != 0, output[-3000:]
    assert variable in output
    assert "Provision the EC2 instances" not in output
    assert deployment_resources(moto_url) == []
