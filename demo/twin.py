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

Each twin has a name, ``<instance id>.<deployment>.localhost``: curl and browsers
resolve every ``*.localhost`` name to this machine's loopback interface by
themselves, where the twin publishes its front door (HTTPS and HTTP, next free
ports from the settings' bases, kept for the twin's life); on the demo's Docker
network the same name is the twin's network alias, which the demo's ACME server
(Pebble, demo/prepare.yml) resolves through Docker's DNS to validate HTTP-01
challenges on the twin's port 80. Streamlit's own port is not published.

    twin.py --state-dir DIR proxy HOST PORT        # ProxyCommand: ensure the twins, relay to HOST's
    twin.py --state-dir DIR show HOST            # HOST's twin as JSON: name, ports, url ({}: no twin)
    twin.py --state-dir DIR prune               # remove twins whose instance is gone

(`make destroy` removes every container named sod-<name>-*.)

Settings come from ``<state-dir>/settings.json``, written by demo/prepare.yml:
endpoint, region, name (the deployment), https_port and http_port (the first
published ports), ca_bundle (copied into each twin for HTTPS proxies).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
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

# The front door's ports in a twin (front_door_https_port / front_door_http_port; Pebble validates on 80).
HTTPS_PORT_IN_TWIN = 443
HTTP_PORT_IN_TWIN = 80
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
    https_port: int
    http_port: int
    ca_bundle: str

    @classmethod
    def load(cls, state_dir: Path) -> Settings:
        data = json.loads((state_dir / "settings.json").read_text())
        return cls(
            state_dir=state_dir,
            endpoint=str(data["endpoint"]),
            region=str(data["region"]),
            name=str(data["name"]),
            https_port=int(data["https_port"]),
            http_port=int(data["http_port"]),
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
    name: str
    https_port: int
    http_port: int

    @property
    def url(self) -> str:
        return f"https://{self.name}:{self.https_port}/"


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
    """The recorded twins; a record of another shape (an older demo's) is dropped, so its twin is made again."""
    path = settings.state_dir / "twins.json"
    if not path.exists():
        return {}
    fields = {field.name for field in dataclasses.fields(Twin)}
    records = json.loads(path.read_text()).items()
    return {address: Twin(**data) for address, data in records if set(data) == fields}


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


def bindable(port: int) -> bool:
    """Whether nothing on this machine listens on 127.0.0.1:port (another demo's twin, another server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no user
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first: int, taken: set[int]) -> int:
    """The first port from FIRST up that no twin of this demo holds and nothing else listens on."""
    port = first
    while port in taken or not bindable(port):
        port += 1
        if port > 65535:
            msg = f"no free port on 127.0.0.1 from {first} up"
            raise RuntimeError(msg)
    return port


def twin_name(settings: Settings, instance_id: str) -> str:
    """The twin's name: resolved to loopback by curl and browsers, to the twin on the demo's network."""
    return f"{instance_id}.{settings.name}.localhost".lower()


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


def create_twin(settings: Settings, instance: Instance, ports: tuple[int, int]) -> Twin:
    image, user = twin_image(instance)
    name = twin_name(settings, instance.instance_id)
    https_port, http_port = ports
    twin = twins.create(
        twins.Spec(
            container=f"{settings.prefix}{instance.instance_id}",
            network=settings.network,
            image=image,
            login_user=user,
            authorized_key=instance.authorized_key,
            hostname=instance.instance_id,
            ports={HTTPS_PORT_IN_TWIN: https_port, HTTP_PORT_IN_TWIN: http_port},
            aliases=(name,),
            ca_bundle=settings.ca_bundle,
            host_keys=twins.host_keys(instance.user_data),
            labels={"streamlit_ops.demo.instance": instance.instance_id},
        )
    )
    return Twin(twin.container, twin.ssh_port, instance.instance_id, instance.address, name, https_port, http_port)


def ensure_twins(settings: Settings) -> dict[str, Twin]:
    with locked(settings):
        known_twins = load(settings)
        for instance_id, address in running_instances(settings):
            known = known_twins.get(address)
            if known is not None and docker("ps", "-q", "--filter", f"name=^{known.container}$"):
                continue
            if known is not None:
                ports = (known.https_port, known.http_port)
            else:
                others = [twin for key, twin in known_twins.items() if key != address]
                taken = {port for twin in others for port in (twin.https_port, twin.http_port)}
                https_port = free_port(settings.https_port, taken)
                ports = (https_port, free_port(settings.http_port, taken | {https_port}))
            known_twins[address] = create_twin(settings, describe(settings, instance_id, address), ports)
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
    show_args = sub.add_parser("show", help="print HOST's twin as JSON (name, ports, url; {} without a twin)")
    show_args.add_argument("host")
    sub.add_parser("prune", help="remove twins whose instance is gone")
    args = parser.parse_args(argv)
    settings = Settings.load(args.state_dir)
    if args.action == "proxy":
        return proxy(settings, args.host)
    if args.action == "show":
        # {} (and success) for a host without a twin: playbooks/validate.yml checks the
        # inputs on a placeholder host before any instance, and so before any twin, exists.
        twin = load(settings).get(args.host)
        print(json.dumps({**asdict(twin), "url": twin.url} if twin else {}))
        return 0
    prune(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
