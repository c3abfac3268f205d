"""SSH twins: Debian containers booting systemd and sshd, reached over real SSH on loopback.

A twin stands in for a cloud instance as its image and cloud-init leave it at first boot:
the image's default user with passwordless sudo and an authorised key, and, when the user
data hands over host keys (cloud-init's ``ssh_keys``), those instead of the image's, so a
client can pin them before the first connection. The demo (``demo/twin.py``) gives each
instance the AWS emulator launches one; the benchmarks (``bench/hosts.py``) start fleets.

    twin = twins.create(twins.Spec(container="sod-x-1", network="sod-x", image=..., login_user="admin",
                                    authorized_key=public_key))
    ssh -p {twin.ssh_port} admin@127.0.0.1; the app at twin.url

Callers name their containers and network ``sod-<name>-*``, so each finds its own leftovers.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

# Where the app listens inside a twin (streamlit_app_port's default).
APP_PORT = 8501
BOOT_TIMEOUT = 90.0
# cloud-init's ssh_keys names and the files they go to (cc_ssh).
HOST_KEY_TYPES = ("rsa", "ecdsa", "ed25519")


@dataclass(frozen=True)
class Spec:
    """What a twin is made of."""

    container: str
    network: str
    image: str
    login_user: str
    authorized_key: str
    hostname: str = ""  # the container's name when empty
    app_port: int = 0  # the loopback port the app is published on; 0: any free one
    ca_bundle: str = ""  # replaces the image's CA bundle (it may hold an HTTPS proxy's CA)
    host_keys: Mapping[str, str] = field(default_factory=dict)  # cloud-init ssh_keys, see host_keys()
    labels: Mapping[str, str] = field(default_factory=dict)
    extra_ports: tuple[int, ...] = ()  # further container ports published on any free loopback port


@dataclass(frozen=True)
class Twin:
    """A running twin: its container, and where its sshd and its app are published on loopback."""

    container: str
    ssh_port: int
    app_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        msg = f"docker {' '.join(args[:3])} ... failed: {result.stderr.strip()}"
        raise RuntimeError(msg)
    return result.stdout.strip()


def ensure_network(network: str) -> None:
    if not docker("network", "ls", "-q", "--filter", f"name=^{network}$"):
        docker("network", "create", network)


def run_container(container: str, network: str, *args: str) -> None:
    """Replace CONTAINER with a new one on NETWORK, set up to boot systemd; ARGS: more options, image, command."""
    docker("rm", "-f", container, check=False)
    ensure_network(network)
    docker(
        "run", "-d", "--name", container, "--network", network,
        "--cap-add", "SYS_ADMIN", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--stop-signal", "SIGRTMIN+3",
        # What streamlit_app sets on a real host (a container's /proc/sys is read-only).
        "--sysctl", "net.ipv4.tcp_migrate_req=1", *args,
    )  # fmt: skip


def start(spec: Spec) -> None:
    """Start the twin's container booting (see ready()): several can boot at once."""
    labels = [word for key, value in spec.labels.items() for word in ("--label", f"{key}={value}")]
    app = f"127.0.0.1:{spec.app_port}:{APP_PORT}" if spec.app_port else f"127.0.0.1::{APP_PORT}"
    run_container(
        spec.container, spec.network,
        "--hostname", spec.hostname or spec.container, *labels,
        "-p", "127.0.0.1::22", "-p", app,
        *[word for port in spec.extra_ports for word in ("-p", f"127.0.0.1::{port}")],
        spec.image, "/lib/systemd/systemd",
    )  # fmt: skip
    if spec.ca_bundle:
        docker("cp", spec.ca_bundle, f"{spec.container}:/etc/ssl/certs/ca-certificates.crt")


def ready(spec: Spec) -> Twin:
    """Once sshd runs in the started container: what cloud-init does at first boot, then its ports."""
    wait_for_sshd(spec.container)
    if spec.host_keys:
        apply_host_keys(spec.container, spec.host_keys)
        wait_for_sshd(spec.container)
    add_login_user(spec.container, spec.login_user, spec.authorized_key)
    return Twin(spec.container, published_port(spec.container, 22), published_port(spec.container, APP_PORT))


def create(spec: Spec) -> Twin:
    start(spec)
    return ready(spec)


def remove(containers: list[str]) -> None:
    if containers:
        docker("rm", "-f", *containers, check=False)


def wait_for_sshd(container: str) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if docker("exec", container, "systemctl", "is-active", "ssh", check=False) == "active":
            return
        time.sleep(0.5)
    msg = f"sshd in {container} did not start within {BOOT_TIMEOUT:.0f} s"
    raise RuntimeError(msg)


def add_login_user(container: str, user: str, public_key: str) -> None:
    """What cloud-init does on EC2: the default user, passwordless sudo, the key pair's public half."""
    script = (
        f"id -u {user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {user}\n"
        f"echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users\n"
        f"install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh\n"
        f"printf '%s\\n' {shlex.quote(public_key.strip())} > /home/{user}/.ssh/authorized_keys\n"
        f"chown {user}:{user} /home/{user}/.ssh/authorized_keys && chmod 0600 /home/{user}/.ssh/authorized_keys\n"
    )
    docker("exec", container, "sh", "-ec", script)


def host_keys(user_data: str) -> dict[str, str]:
    """cloud-init's ssh_keys from #cloud-config user data: {"ed25519_private": ..., ...}."""
    if not user_data.startswith("#cloud-config"):
        return {}
    config = yaml.safe_load(user_data) or {}
    keys = config.get("ssh_keys") or {}
    wanted = {f"{kind}_{half}" for kind in HOST_KEY_TYPES for half in ("private", "public")}
    return {name: str(value) for name, value in keys.items() if name in wanted}


def apply_host_keys(container: str, keys: Mapping[str, str]) -> None:
    """cloud-init's ssh_keys with ssh_deletekeys (its default): the image's keys go, the given ones come."""
    docker("exec", container, "sh", "-ec", "rm -f /etc/ssh/ssh_host_*key*")
    for name, value in keys.items():
        kind, half = name.rsplit("_", 1)
        path = f"/etc/ssh/ssh_host_{kind}_key" + (".pub" if half == "public" else "")
        mode = "0644" if half == "public" else "0600"
        script = f"umask 077; cat > {path}; chmod {mode} {path}"
        subprocess.run(
            ["docker", "exec", "-i", container, "sh", "-ec", script],
            input=value.strip() + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
    docker("exec", container, "systemctl", "restart", "ssh")


def published_port(container: str, port: int) -> int:
    """The loopback port Docker published the container's PORT on."""
    return int(docker("port", container, f"{port}/tcp").splitlines()[0].rsplit(":", 1)[1])
