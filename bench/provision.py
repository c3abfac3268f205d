"""playbooks/provision.yml against the AWS emulator (moto on loopback), N instances vs 1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import playbook

from tests.support import moto

PROVISION = "playbooks/provision.yml"
# The emulator accepts any credentials: never let real ones, or a profile, reach it.
AWS_ENV: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_PROFILE": None,
    "AWS_SESSION_TOKEN": None,
}


@dataclass(frozen=True)
class ProvisionTimes:
    fresh: float
    rerun: float
    rerun_changed: int
    fresh_log: Path


def write_inventory(work: Path) -> Path:
    inventory = work / "provision-inventory.yml"
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": localhost}}}, indent=2))
    return inventory


def extra_vars(server: moto.MotoServer, public_key: Path, count: int) -> dict[str, object]:
    return {
        "ec2_launch_name": "bench",
        "ec2_launch_region": "us-east-1",
        "ec2_launch_endpoint_url": server.url,
        "ec2_launch_ssh_cidrs": ["127.0.0.1/32"],
        "ec2_launch_key_mode": "import",
        "ec2_launch_public_key_file": str(public_key),
        # The instances' pinned host keys: never this machine's own ~/.ssh/known_hosts.
        "ec2_launch_known_hosts_file": str(public_key.parent / "known_hosts"),
        "ec2_launch_count": count,
        "ec2_launch_wait_for_ssh": False,
        "ec2_launch_wait_for_port": False,
    }


def warm_up(server: moto.MotoServer) -> None:
    """moto loads its AMI catalogue on first use: do that before the first timed run, not during it."""
    import boto3  # the controller's boto3, as the amazon.aws modules use

    client = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023*"]}])
    client.describe_instances()


def measure(server: moto.MotoServer, work: Path, public_key: Path, count: int, tag: str) -> ProvisionTimes:
    """Provision count instances on a wiped emulator, then run the same again (a no-op)."""
    moto.reset(server)
    inventory = write_inventory(work)
    variables = extra_vars(server, public_key, count)

    def run(name: str, env: dict[str, str | None]) -> playbook.RunResult:
        log = work / "logs" / f"provision-{count}-{tag}-{name}.log"
        return playbook.run(PROVISION, log, inventory=inventory, extra_vars=variables, env=env).check()

    fresh = run("fresh", {**AWS_ENV, **playbook.PROFILE_ENV})
    rerun = run("rerun", AWS_ENV)
    return ProvisionTimes(fresh.seconds, rerun.seconds, rerun.changed, fresh.log)
