"""Fixtures for the ec2_launch scenario: the moto server, boto3, and playbook runs.

Every assertion goes through the EC2 API of the moto server the scenario's
create.yml started. The playbook runs the tests need are grouped into
independent sequences (one deployment each) that run concurrently, so the
suite's wall time is the longest sequence, not their sum.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.support.playbook import Run, run_command, run_playbook

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCENARIO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DEPLOYMENT_TAG = "streamlit_ops_deployment"
MANAGED_BY_TAG = "streamlit_ops_managed_by"
MANAGED_BY = "streamlit_ops.deploy"
LIVE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]
DEBIAN_OWNER = "136693071363"
# How long the slow endpoint leaves RunInstances unanswered: beyond the run's read timeout.
SLOW_LAUNCH_SECONDS = 8
# The public hosted zone prepare.yml creates; each deployment keeps its own name in it.
ZONE = "molecule.test"
MARKER_PREFIX = "_streamlit-ops."
# A record someone made by hand: no deployment may take it over, none may remove it.
FOREIGN_NAME = f"taken.{ZONE}"
FOREIGN_ADDRESS = "192.0.2.10"


def moto_url() -> str:
    state = json.loads((EPHEMERAL / "moto" / "moto.json").read_text())
    return f"http://127.0.0.1:{state['port']}"


def inputs() -> dict[str, Any]:
    return yaml.safe_load((SCENARIO / "vars" / "inputs.yml").read_text())


def edge() -> dict[str, Any]:
    """The converged deployment's Elastic IP and DNS inputs (converge.yml adds them to inputs())."""
    return yaml.safe_load((SCENARIO / "vars" / "edge.yml").read_text())


def run(command: list[str], env: dict[str, str | None] | None = None) -> Run:
    """Run an Ansible command (ansible-inventory ...) from the project root; env entries set to None are removed."""
    return run_command(command, env=env, cwd=PROJECT)


def known_hosts(deployment: str) -> Path:
    """Each deployment's own known_hosts file, so concurrent runs never write the same one."""
    return EPHEMERAL / f"known_hosts_{deployment}"


def variables(extra: dict[str, Any]) -> dict[str, Any]:
    merged = {**inputs(), "ec2_launch_endpoint_url": moto_url(), **extra}
    return {**merged, "ec2_launch_known_hosts_file": str(known_hosts(merged["ec2_launch_name"])), **extra}


def playbook(
    name: str,
    extra: dict[str, Any],
    *,
    check: bool = False,
    env: dict[str, str | None] | None = None,
    verbose: bool = False,
) -> Run:
    """Run one of the collection's playbooks with the scenario inputs, pointed at moto."""
    return run_playbook(
        PROJECT / "playbooks" / f"{name}.yml",
        extra_vars=variables(extra),
        options=["-vvv"] if verbose else [],
        check=check,
        env=env,
        cwd=PROJECT,
    )


def probe(extra: dict[str, Any]) -> Run:
    """Run provision.yml followed by a play that prints the in-memory group as JSON."""
    return run_playbook(SCENARIO / "tests" / "group_probe.yml", extra_vars=variables(extra), cwd=PROJECT)


def group_members(result: Run) -> list[str]:
    match = re.search(r"GROUP=(\[.*?\])", result.output)
    assert match, f"no group report in:\n{result.output[-3000:]}"
    return sorted(json.loads(match.group(1)))


def group_hosts(result: Run) -> dict[str, str]:
    """Each in-memory host's ansible_host, as group_probe.yml prints them."""
    return dict(re.findall(r"msg: HOST (i-[0-9a-f]+)=([0-9A-Fa-f.:]+)", result.output))


@pytest.fixture(scope="session")
def ec2() -> Any:
    return boto3.client("ec2", endpoint_url=moto_url(), region_name=REGION)


@pytest.fixture(scope="session")
def route53() -> Any:
    return boto3.client("route53", endpoint_url=moto_url(), region_name=REGION)


@pytest.fixture(scope="session")
def zone_id(route53: Any) -> str:
    (zone,) = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}."]
    identifier: str = zone["Id"].split("/")[-1]
    return identifier


def records(route53: Any, zone_id: str, name: str) -> dict[str, list[str]]:
    """The record sets at NAME, by type, their values sorted."""
    found = route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=name, MaxItems="20")
    return {
        rrset["Type"]: sorted(r["Value"] for r in rrset.get("ResourceRecords", []))
        for rrset in found["ResourceRecordSets"]
        if rrset["Name"] == f"{name}."
    }


def elastic_ips(ec2: Any, deployment: str) -> list[dict[str, Any]]:
    """The Elastic IPs carrying both ownership tags of DEPLOYMENT."""
    filters = [
        {"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]},
        {"Name": f"tag:{MANAGED_BY_TAG}", "Values": [MANAGED_BY]},
    ]
    found: list[dict[str, Any]] = ec2.describe_addresses(Filters=filters)["Addresses"]
    return found


def associations(addresses: list[dict[str, Any]]) -> dict[str, str]:
    """Elastic IP -> the instance it is associated with."""
    return {address["PublicIp"]: address.get("InstanceId", "") for address in addresses}


@pytest.fixture(scope="session")
def foreign_record(route53: Any, zone_id: str) -> str:
    """An A record made by hand in the scenario's zone, with no ownership record beside it."""
    change = {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": FOREIGN_NAME,
            "Type": "A",
            "TTL": 60,
            "ResourceRecords": [{"Value": FOREIGN_ADDRESS}],
        },
    }
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [change]})
    return FOREIGN_NAME


@pytest.fixture(scope="session")
def stray_address(ec2: Any) -> str:
    """An Elastic IP someone else allocated with the deployment tag of molecule-life but not managed_by."""
    allocated = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": DEPLOYMENT_TAG, "Value": "molecule-life"}]},
        ],
    )
    address: str = allocated["PublicIp"]
    return address


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
    """The deployment's instances: both ownership tags."""
    filters = [
        {"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]},
        {"Name": f"tag:{MANAGED_BY_TAG}", "Values": [MANAGED_BY]},
        {"Name": "instance-state-name", "Values": states or ["pending", "running"]},
    ]
    pages = ec2.describe_instances(Filters=filters)["Reservations"]
    return [instance for reservation in pages for instance in reservation["Instances"]]


def user_data(ec2: Any, instance_id: str) -> str:
    value = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"].get("Value")
    return base64.b64decode(value).decode() if value else ""


def impostor(ec2: Any, deployment: str) -> str:
    """An instance someone else launched with the deployment tag but not the collection's managed_by tag."""
    (image,) = ec2.describe_images(
        Owners=[DEBIAN_OWNER], Filters=[{"Name": "name", "Values": ["debian-13-amd64-20250814-2204"]}]
    )["Images"]
    launched = ec2.run_instances(
        ImageId=image["ImageId"],
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": DEPLOYMENT_TAG, "Value": deployment}]},
        ],
    )
    instance_id: str = launched["Instances"][0]["InstanceId"]
    return instance_id


def state_of(ec2: Any, instance_id: str) -> str:
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    state: str = reservation["Instances"][0]["State"]["Name"]
    return state


def tagged(ec2: Any, deployment: str, describe: str, key: str) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]}]
    return getattr(ec2, describe)(Filters=filters)[key]


def ids(found: list[dict[str, Any]]) -> list[str]:
    return sorted(instance["InstanceId"] for instance in found)


def scaling(ec2: Any, route53: Any, zone_id: str) -> dict[str, Any]:
    """Deployment molecule-scale on Amazon Linux 2023: count 1 -> 3 -> 1, then its Elastic IPs turned off.

    Every instance has an Elastic IP and the name scale.molecule.test points at all of
    them; with several instances behind one name the certificate is a provided one (HTTP-01
    for one name behind several addresses is refused). After each run: the API's view.
    """
    name = f"scale.{ZONE}"
    extra = {
        "ec2_launch_name": "molecule-scale",
        "ec2_launch_os": "amazon_linux_2023",
        "ec2_launch_elastic_ip": True,
        "ec2_launch_route53_zone": ZONE,
        "ec2_launch_domain": name,
        "front_door_certificate_source": "provided",
    }
    result: dict[str, Any] = {}
    for step, count, elastic in (("up1", 1, True), ("up3", 3, True), ("down1", 1, True), ("off1", 1, False)):
        result[step] = probe({**extra, "ec2_launch_count": count, "ec2_launch_elastic_ip": elastic})
        found = instances(ec2, "molecule-scale")
        result[f"ids_{step}"] = ids(found)
        result[f"public_{step}"] = sorted(instance.get("PublicIpAddress", "") for instance in found)
        result[f"eips_{step}"] = associations(elastic_ips(ec2, "molecule-scale"))
        result[f"record_{step}"] = records(route53, zone_id, name)
        if step == "up3":
            result["images_up3"] = sorted({instance["ImageId"] for instance in found})
            result["user_data_up3"] = [user_data(ec2, instance["InstanceId"]) for instance in found]
            result["groups_up3"] = tagged(ec2, "molecule-scale", "describe_security_groups", "SecurityGroups")
    result["all_addresses"] = [address["PublicIp"] for address in ec2.describe_addresses()["Addresses"]]
    return result


def survey(ec2: Any) -> dict[str, Any]:
    """Deployment molecule-survey: every input as an AWX survey or `-e key=value` gives it, a string."""
    extra = {
        "ec2_launch_name": "molecule-survey",
        "ec2_launch_count": "2",
        "ec2_launch_ssh_cidrs": "203.0.113.7/32, 198.51.100.0/24\n2001:db8::/32",
        "ec2_launch_app_cidrs": "192.0.2.0/24",
        "ec2_launch_app_port": "8502",
        "ec2_launch_root_volume_size": "20",
        "ec2_launch_aws_read_timeout": "10",
        "ec2_launch_aws_connect_timeout": "5",
        "ec2_launch_aws_max_attempts": "3",
        "ec2_launch_instance_wait_timeout": "300",
        "ec2_launch_assign_public_ip": "true",
        "ec2_launch_termination_protection": "false",
        "ec2_launch_tags": '{"team": "survey", "cost-center": 7}',
        # The front door turned off as a survey gives it: Streamlit's own port is opened instead.
        "front_door_enabled": "false",
    }
    result: dict[str, Any] = {"provision": playbook("provision", extra)}
    result["launched"] = instances(ec2, "molecule-survey")
    result["groups"] = tagged(ec2, "molecule-survey", "describe_security_groups", "SecurityGroups")
    result["teardown"] = playbook("teardown", extra)
    return result


@pytest.fixture(scope="session")
def slow_launch_endpoint() -> Iterator[str]:
    """moto behind a relay that answers every call but RunInstances, which it leaves unanswered."""
    target = moto_url()

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if b"Action=RunInstances" in body:
                time.sleep(SLOW_LAUNCH_SECONDS)
                return
            headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
            forwarded = urllib.request.Request(target + self.path, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(forwarded, timeout=30) as response:
                    status, answer = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, answer = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def lifecycle(
    ec2: Any, route53: Any, zone_id: str, key_file: Path, stranger: str, stray: str, foreign: str
) -> dict[str, Any]:
    """Deployment molecule-life: two instances with an AWS-created key, Elastic IPs and a DNS name.

    Provision runs at -vvv: neither the created key pair's private half nor the
    host keys in the user data may reach the output. ``stranger`` (an instance) and
    ``stray`` (an Elastic IP) carry only the deployment tag: neither scaling nor
    teardown may count or touch them. One instance is stopped and started, then
    provision runs again, then teardown twice; ``foreign`` is a record in the same
    zone that teardown must leave alone.
    """
    name = f"life.{ZONE}"
    extra = {
        "ec2_launch_name": "molecule-life",
        "ec2_launch_count": 2,
        "ec2_launch_key_mode": "create",
        "ec2_launch_private_key_file": str(key_file),
        "ec2_launch_elastic_ip": True,
        "ec2_launch_route53_zone": ZONE,
        "ec2_launch_domain": name,
        "front_door_certificate_source": "provided",
    }
    result: dict[str, Any] = {"provision": playbook("provision", extra, verbose=True)}
    result["launched"] = instances(ec2, "molecule-life")
    result["stranger_after_provision"] = state_of(ec2, stranger)
    result["known_hosts"] = known_hosts("molecule-life").read_text() if known_hosts("molecule-life").exists() else ""
    result["key_mode"] = key_file.stat().st_mode & 0o777 if key_file.exists() else None
    result["key_text"] = key_file.read_text() if key_file.exists() else ""
    result["eips"] = associations(elastic_ips(ec2, "molecule-life"))
    result["record"] = records(route53, zone_id, name)
    result["marker"] = records(route53, zone_id, MARKER_PREFIX + name)
    # A stop and start, as an operator (or AWS maintenance) does it; then provision again.
    restarted = result["launched"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[restarted])
    ec2.start_instances(InstanceIds=[restarted])
    result["restarted"] = restarted
    result["after_restart"] = probe(extra)
    result["eips_after_restart"] = associations(elastic_ips(ec2, "molecule-life"))
    result["record_after_restart"] = records(route53, zone_id, name)
    result["teardown"] = playbook("teardown", extra)
    result["stranger_after_teardown"] = state_of(ec2, stranger)
    result["known_hosts_after_teardown"] = known_hosts("molecule-life").read_text()
    result["left_instances"] = instances(ec2, "molecule-life", LIVE_STATES)
    result["left_groups"] = tagged(ec2, "molecule-life", "describe_security_groups", "SecurityGroups")
    result["left_keys"] = tagged(ec2, "molecule-life", "describe_key_pairs", "KeyPairs")
    result["left_eips"] = elastic_ips(ec2, "molecule-life")
    result["all_addresses"] = [address["PublicIp"] for address in ec2.describe_addresses()["Addresses"]]
    result["stray_after_teardown"] = stray in result["all_addresses"]
    result["record_after_teardown"] = records(route53, zone_id, name)
    result["marker_after_teardown"] = records(route53, zone_id, MARKER_PREFIX + name)
    result["foreign_after_teardown"] = records(route53, zone_id, foreign)
    result["teardown_again"] = playbook("teardown", extra)
    return result


def foreign_name(ec2: Any, route53: Any, zone_id: str, foreign: str) -> dict[str, Any]:
    """Deployment molecule-foreign asks for the name of a record someone made by hand."""
    extra = {
        "ec2_launch_name": "molecule-foreign",
        "ec2_launch_elastic_ip": True,
        "ec2_launch_route53_zone": ZONE,
        "ec2_launch_domain": foreign,
    }
    result: dict[str, Any] = {"provision": playbook("provision", extra)}
    result["record"] = records(route53, zone_id, foreign)
    result["groups"] = tagged(ec2, "molecule-foreign", "describe_security_groups", "SecurityGroups")
    result["instances"] = instances(ec2, "molecule-foreign", LIVE_STATES)
    result["eips"] = elastic_ips(ec2, "molecule-foreign")
    return result


def dry_run(ec2: Any, route53: Any, zone_id: str) -> dict[str, Any]:
    """Deployment molecule-dry in check mode on an empty account, with an Elastic IP and a DNS name."""
    name = f"dry.{ZONE}"
    extra = {
        "ec2_launch_name": "molecule-dry",
        "ec2_launch_elastic_ip": True,
        "ec2_launch_route53_zone": ZONE,
        "ec2_launch_domain": name,
    }
    result: dict[str, Any] = {"run": playbook("provision", extra, check=True)}
    result["eips"] = elastic_ips(ec2, "molecule-dry")
    result["record"] = records(route53, zone_id, name)
    result["marker"] = records(route53, zone_id, MARKER_PREFIX + name)
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
def stranger(ec2: Any) -> str:
    """An instance tagged streamlit_ops_deployment=molecule-life by someone else (no managed_by tag)."""
    return impostor(ec2, "molecule-life")


@pytest.fixture(scope="session")
def sequences(
    ec2: Any,
    route53: Any,
    zone_id: str,
    pool: ThreadPoolExecutor,
    hung_endpoint: str,
    slow_launch_endpoint: str,
    stranger: str,
    stray_address: str,
    foreign_record: str,
) -> dict[str, Future[Any]]:
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
        "scaling": pool.submit(scaling, ec2, route53, zone_id),
        "lifecycle": pool.submit(
            lifecycle, ec2, route53, zone_id, key_dir / "molecule-life.pem", stranger, stray_address, foreign_record
        ),
        "foreign": pool.submit(foreign_name, ec2, route53, zone_id, foreign_record),
        "survey": pool.submit(survey, ec2),
        "slow_launch": pool.submit(
            playbook,
            "provision",
            {
                "ec2_launch_name": "bad-slow",
                "ec2_launch_endpoint_url": slow_launch_endpoint,
                "ec2_launch_aws_read_timeout": 3,
                "ec2_launch_aws_max_attempts": 1,
            },
        ),
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
            run_playbook, PROJECT / "playbooks" / "teardown.yml", extra_vars={"ec2_launch_region": REGION}, cwd=PROJECT
        ),
        "check_mode": pool.submit(dry_run, ec2, route53, zone_id),
    }
