"""Local twins for the instances the AWS emulator launches (the demo's only trick).

The emulator (moto) launches instances that exist only as API records. For each
running instance of the deployment this script keeps a "twin": a Debian systemd
container with sshd, in which a user named like the instance's default user
logs in with the deployment's key pair, as on a fresh EC2 instance. Ansible
reaches a twin over real SSH: the demo inventory sets this script as the
ProxyCommand, so ``ssh <instance public IP>`` is carried to the twin's sshd on
the loopback interface; no packet ever goes to the instance's (fake) address.

    twin.py --state-dir DIR proxy HOST PORT USER   # ProxyCommand: ensure the twins, relay to HOST's
    twin.py --state-dir DIR url HOST             # the app URL on this machine for HOST
    twin.py --state-dir DIR prune               # remove twins whose instance is gone

(`make destroy` removes every container named sod-<name>-*.)

Settings come from ``<state-dir>/settings.json``, written by demo/prepare.yml:
endpoint, region, name (the deployment), public_key, app_port (the first
published app port), image, ca_bundle (copied into each twin for HTTPS proxies).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

APP_PORT_IN_TWIN = 8501
BOOT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    endpoint: str
    region: str
    name: str
    public_key: Path
    app_port: int
    image: str
    ca_bundle: str

    @classmethod
    def load(cls, state_dir: Path) -> Settings:
        data = json.loads((state_dir / "settings.json").read_text())
        return cls(
            state_dir=state_dir,
            endpoint=str(data["endpoint"]),
            region=str(data["region"]),
            name=str(data["name"]),
            public_key=Path(data["public_key"]),
            app_port=int(data["app_port"]),
            image=str(data["image"]),
            ca_bundle=str(data.get("ca_bundle", "")),
        )

    @property
    def prefix(self) -> str:
        return f"sod-{self.name}-twin-"

    @property
    def network(self) -> str:
        return f"sod-{self.name}"


@dataclass(frozen=True)
class Twin:
    instance_id: str
    address: str
    container: str
    ssh_port: int
    app_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        msg = f"docker {' '.join(args)} failed: {result.stderr.strip()}"
        raise RuntimeError(msg)
    return result.stdout.strip()


def running_instances(settings: Settings) -> list[tuple[str, str]]:
    """(instance id, public or private address) of the deployment's running instances, oldest id first."""
    import boto3  # the controller's boto3; imported late so `url`/`destroy` work without it

    client = boto3.client(
        "ec2",
        region_name=settings.region,
        endpoint_url=settings.endpoint or None,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    filters = [
        {"Name": "tag:streamlit_ops_deployment", "Values": [settings.name]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    found = []
    for reservation in client.describe_instances(Filters=filters)["Reservations"]:
        for instance in reservation["Instances"]:
            address = instance.get("PublicIpAddress") or instance.get("PrivateIpAddress", "")
            found.append((instance["InstanceId"], address))
    return sorted(found)


def load(settings: Settings) -> dict[str, Twin]:
    path = settings.state_dir / "twins.json"
    if not path.exists():
        return {}
    return {address: Twin(**data) for address, data in json.loads(path.read_text()).items()}


def save(settings: Settings, twins: dict[str, Twin]) -> None:
    path = settings.state_dir / "twins.json"
    path.write_text(json.dumps({address: asdict(twin) for address, twin in twins.items()}, indent=2))


@contextmanager
def locked(settings: Settings) -> Iterator[None]:
    """Serialise twin creation: Ansible connects to several hosts at once."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (settings.state_dir / "twins.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def free_app_port(settings: Settings, twins: dict[str, Twin]) -> int:
    taken = {twin.app_port for twin in twins.values()}
    port = settings.app_port
    while port in taken:
        port += 1
    return port


def wait_for_sshd(container: str) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        state = docker("exec", container, "systemctl", "is-active", "ssh", check=False)
        if state == "active":
            return
        time.sleep(0.5)
    msg = f"sshd in twin {container} did not start within {BOOT_TIMEOUT:.0f} s"
    raise RuntimeError(msg)


def add_login_user(settings: Settings, container: str, user: str) -> None:
    """What cloud-init does on EC2: the default user, passwordless sudo, the key pair's public half."""
    key = settings.public_key.read_text().strip()
    script = (
        f"id -u {user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {user}\n"
        f"echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users\n"
        f"install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh\n"
        f"printf '%s\\n' '{key}' > /home/{user}/.ssh/authorized_keys\n"
        f"chown {user}:{user} /home/{user}/.ssh/authorized_keys && chmod 0600 /home/{user}/.ssh/authorized_keys\n"
    )
    docker("exec", container, "sh", "-ec", script)


def create_twin(settings: Settings, instance_id: str, address: str, user: str, app_port: int) -> Twin:
    container = f"{settings.prefix}{instance_id}"
    docker("rm", "-f", container, check=False)
    if not docker("network", "ls", "-q", "--filter", f"name=^{settings.network}$"):
        docker("network", "create", settings.network)
    docker(
        "run", "-d", "--name", container, "--hostname", instance_id, "--network", settings.network,
        "--cap-add", "SYS_ADMIN", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--stop-signal", "SIGRTMIN+3",
        # What streamlit_app sets on a real host (a container's /proc/sys is read-only).
        "--sysctl", "net.ipv4.tcp_migrate_req=1",
        "--label", f"streamlit_ops.demo.instance={instance_id}",
        "-p", "127.0.0.1::22", "-p", f"127.0.0.1:{app_port}:{APP_PORT_IN_TWIN}",
        settings.image, "/lib/systemd/systemd",
    )  # fmt: skip
    if settings.ca_bundle:
        docker("cp", settings.ca_bundle, f"{container}:/etc/ssl/certs/ca-certificates.crt")
    wait_for_sshd(container)
    add_login_user(settings, container, user)
    ssh_port = int(docker("port", container, "22/tcp").splitlines()[0].rsplit(":", 1)[1])
    return Twin(instance_id, address, container, ssh_port, app_port)


def ensure_twins(settings: Settings, user: str) -> dict[str, Twin]:
    with locked(settings):
        twins = load(settings)
        for instance_id, address in running_instances(settings):
            known = twins.get(address)
            if known is not None and docker("ps", "-q", "--filter", f"name=^{known.container}$"):
                continue
            app_port = known.app_port if known is not None else free_app_port(settings, twins)
            twins[address] = create_twin(settings, instance_id, address, user, app_port)
            save(settings, twins)
        return twins


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


def proxy(settings: Settings, host: str, user: str) -> int:
    twins = ensure_twins(settings, user)
    twin = twins.get(host)
    if twin is None:
        print(f"twin.py: no running instance of deployment {settings.name!r} has address {host}", file=sys.stderr)
        return 1
    relay(twin.ssh_port)
    return 0


def prune(settings: Settings) -> None:
    with locked(settings):
        twins = load(settings)
        alive = {address for _, address in running_instances(settings)}
        for address in [a for a in twins if a not in alive]:
            docker("rm", "-f", twins.pop(address).container, check=False)
        save(settings, twins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, required=True, help="the demo's state directory")
    sub = parser.add_subparsers(dest="action", required=True)
    proxy_args = sub.add_parser("proxy", help="ProxyCommand: ensure twins, relay to HOST's sshd")
    proxy_args.add_argument("host")
    proxy_args.add_argument("port")
    proxy_args.add_argument("user")
    url_args = sub.add_parser("url", help="print the app URL for HOST")
    url_args.add_argument("host")
    sub.add_parser("prune", help="remove twins whose instance is gone")
    args = parser.parse_args(argv)
    settings = Settings.load(args.state_dir)
    if args.action == "proxy":
        return proxy(settings, args.host, args.user)
    if args.action == "url":
        twin = load(settings).get(args.host)
        print(twin.url if twin else "")
        return 0 if twin else 1
    prune(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
