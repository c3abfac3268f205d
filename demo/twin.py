"""Local twins for the instances the AWS emulator launches (the demo's only trick).

The emulator (moto) launches instances that exist only as API records. For each
running instance of the deployment this script keeps a "twin": a systemd
container with sshd (tests/support/twins.py, shared with the benchmarks' hosts)
that keeps the contract of the instance's image, as cloud-init applies it on
first boot on EC2:

- the container image matches the instance's AMI (Debian 12 or 13 by its name);
  an AMI of another OS family has no twin here, and the demo says so;
- the image's default user (``admin`` on Debian's images) gets passwordless
  sudo and the instance's key pair (its public half, read from the emulator);
- the user data the emulator holds is applied as cloud-init's ``ssh_keys``
  module does: the image's host keys are deleted and the given ones installed,
  so the SSH client pins them before the first connection (strict checking).

Ansible reaches a twin over real SSH: the demo inventory sets this script as the
ProxyCommand, so ``ssh <instance public IP>`` is carried to the twin's sshd on
the loopback interface; no packet ever goes to the instance's (fake) address.

    twin.py --state-dir DIR proxy HOST PORT        # ProxyCommand: ensure the twins, relay to HOST's
    twin.py --state-dir DIR url HOST             # the app URL on this machine for HOST (empty: no twin)
    twin.py --state-dir DIR prune               # remove twins whose instance is gone

(`make destroy` removes every container named sod-<name>-*.)

Settings come from ``<state-dir>/settings.json``, written by demo/prepare.yml:
endpoint, region, name (the deployment), app_port (the first published app
port), ca_bundle (copied into each twin for HTTPS proxies).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support, when run as a script

from tests.support import twins
from tests.support.twins import docker

MANAGED_BY = "streamlit_ops.deploy"
# What each image family is twinned with, and the default user its cloud-init creates.
TWIN_IMAGES = {
    "debian-12-": ("local/streamlit-ops-debian12:latest", "admin"),
    "debian-13-": ("local/streamlit-ops-debian13:latest", "admin"),
}


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    endpoint: str
    region: str
    name: str
    app_port: int
    ca_bundle: str

    @classmethod
    def load(cls, state_dir: Path) -> Settings:
        data = json.loads((state_dir / "settings.json").read_text())
        return cls(
            state_dir=state_dir,
            endpoint=str(data["endpoint"]),
            region=str(data["region"]),
            name=str(data["name"]),
            app_port=int(data["app_port"]),
            ca_bundle=str(data.get("ca_bundle", "")),
        )

    @property
    def prefix(self) -> str:
        return f"sod-{self.name}-twin-"

    @property
    def network(self) -> str:
        return f"sod-{self.name}"


@dataclass(frozen=True)
class Twin(twins.Twin):
    """The twin of one instance, as twins.json keeps it (keyed by the instance's address)."""

    instance_id: str
    address: str


@dataclass(frozen=True)
class Instance:
    """What the emulator holds about one instance: all a twin needs to act like it."""

    instance_id: str
    address: str
    image_name: str
    authorized_key: str
    user_data: str


def ec2(settings: Settings) -> Any:
    import boto3  # the controller's boto3; imported late so `url` works without it

    return boto3.client(
        "ec2",
        region_name=settings.region,
        endpoint_url=settings.endpoint or None,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def running_instances(settings: Settings) -> list[tuple[str, str]]:
    """(instance id, public or private address) of the deployment's running instances, oldest id first.

    Both ownership tags, as the role and the inventory select them.
    """
    filters = [
        {"Name": "tag:streamlit_ops_deployment", "Values": [settings.name]},
        {"Name": "tag:streamlit_ops_managed_by", "Values": [MANAGED_BY]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    found = []
    for reservation in ec2(settings).describe_instances(Filters=filters)["Reservations"]:
        for instance in reservation["Instances"]:
            address = instance.get("PublicIpAddress") or instance.get("PrivateIpAddress", "")
            found.append((instance["InstanceId"], address))
    return sorted(found)


def describe(settings: Settings, instance_id: str, address: str) -> Instance:
    """The instance's image name, its key pair's public half and its user data, from the emulator."""
    client = ec2(settings)
    (reservation,) = client.describe_instances(InstanceIds=[instance_id])["Reservations"]
    (instance,) = reservation["Instances"]
    (image,) = client.describe_images(ImageIds=[instance["ImageId"]])["Images"]
    (key,) = client.describe_key_pairs(KeyNames=[instance["KeyName"]], IncludePublicKey=True)["KeyPairs"]
    user_data = client.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]
    text = base64.b64decode(user_data["Value"]).decode() if user_data.get("Value") else ""
    return Instance(instance_id, address, image["Name"], key["PublicKey"].strip(), text)


def load(settings: Settings) -> dict[str, Twin]:
    path = settings.state_dir / "twins.json"
    if not path.exists():
        return {}
    return {address: Twin(**data) for address, data in json.loads(path.read_text()).items()}


def save(settings: Settings, known_twins: dict[str, Twin]) -> None:
    path = settings.state_dir / "twins.json"
    path.write_text(json.dumps({address: asdict(twin) for address, twin in known_twins.items()}, indent=2))


@contextmanager
def locked(settings: Settings) -> Iterator[None]:
    """Serialise twin creation: Ansible connects to several hosts at once."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (settings.state_dir / "twins.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def free_app_port(settings: Settings, known_twins: dict[str, Twin]) -> int:
    taken = {twin.app_port for twin in known_twins.values()}
    port = settings.app_port
    while port in taken:
        port += 1
    return port


def twin_image(instance: Instance) -> tuple[str, str]:
    """The container image and default user matching the instance's AMI."""
    for prefix, image in TWIN_IMAGES.items():
        if instance.image_name.startswith(prefix):
            return image
    msg = (
        f"instance {instance.instance_id} runs image {instance.image_name!r}: the demo has twins for Debian 12 and 13 "
        "images only (ec2_launch_os: debian_13 or debian_12); other OS families are written from documentation"
    )
    raise RuntimeError(msg)


def create_twin(settings: Settings, instance: Instance, app_port: int) -> Twin:
    image, user = twin_image(instance)
    twin = twins.create(
        twins.Spec(
            container=f"{settings.prefix}{instance.instance_id}",
            network=settings.network,
            image=image,
            login_user=user,
            authorized_key=instance.authorized_key,
            hostname=instance.instance_id,
            app_port=app_port,
            ca_bundle=settings.ca_bundle,
            host_keys=twins.host_keys(instance.user_data),
            labels={"streamlit_ops.demo.instance": instance.instance_id},
        )
    )
    return Twin(twin.container, twin.ssh_port, twin.app_port, instance.instance_id, instance.address)


def ensure_twins(settings: Settings) -> dict[str, Twin]:
    with locked(settings):
        known_twins = load(settings)
        for instance_id, address in running_instances(settings):
            known = known_twins.get(address)
            if known is not None and docker("ps", "-q", "--filter", f"name=^{known.container}$"):
                continue
            app_port = known.app_port if known is not None else free_app_port(settings, known_twins)
            known_twins[address] = create_twin(settings, describe(settings, instance_id, address), app_port)
            save(settings, known_twins)
        return known_twins


def relay(port: int) -> None:
    """Carry this process's stdin/stdout to 127.0.0.1:port (what `nc` would do)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(None)

    def upstream() -> None:
        while data := os.read(sys.stdin.fileno(), 65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, daemon=True).start()
    while data := sock.recv(65536):
        os.write(sys.stdout.fileno(), data)


def proxy(settings: Settings, host: str) -> int:
    known_twins = ensure_twins(settings)
    twin = known_twins.get(host)
    if twin is None:
        print(f"twin.py: no running instance of deployment {settings.name!r} has address {host}", file=sys.stderr)
        return 1
    relay(twin.ssh_port)
    return 0


def prune(settings: Settings) -> None:
    with locked(settings):
        known_twins = load(settings)
        alive = {address for _, address in running_instances(settings)}
        for address in [a for a in known_twins if a not in alive]:
            twins.remove([known_twins.pop(address).container])
        save(settings, known_twins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, required=True, help="the demo's state directory")
    sub = parser.add_subparsers(dest="action", required=True)
    proxy_args = sub.add_parser("proxy", help="ProxyCommand: ensure twins, relay to HOST's sshd")
    proxy_args.add_argument("host")
    proxy_args.add_argument("port")
    url_args = sub.add_parser("url", help="print the app URL for HOST")
    url_args.add_argument("host")
    sub.add_parser("prune", help="remove twins whose instance is gone")
    args = parser.parse_args(argv)
    settings = Settings.load(args.state_dir)
    if args.action == "proxy":
        return proxy(settings, args.host)
    if args.action == "url":
        # Nothing (and success) for a host without a twin: playbooks/validate.yml checks the
        # inputs on a placeholder host before any instance, and so before any twin, exists.
        twin = load(settings).get(args.host)
        print(twin.url if twin else "")
        return 0
    prune(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
