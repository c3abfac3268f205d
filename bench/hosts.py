"""Twin-like test hosts: Debian systemd containers with sshd, reached over SSH on loopback.

Every container the harness starts is named sod-bench-* and sits on the network
sod-bench, so a run can remove the leftovers of an interrupted one first.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "sod-bench-"
NETWORK = "sod-bench"
IMAGE = "local/streamlit-ops-debian12:latest"
LOGIN_USER = "bench"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
APP_PORT_IN_CONTAINER = 8501
# Where the front door (nginx) serves HTTPS inside a host (front_door_https_port's default).
HTTPS_PORT_IN_CONTAINER = 443
BOOT_TIMEOUT = 90.0


@dataclass(frozen=True)
class Host:
    """A running container: its inventory name and where its sshd, app port and front door's HTTPS are published."""

    name: str
    container: str
    ssh_port: int
    app_port: int
    https_port: int

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        msg = f"docker {' '.join(args[:3])} ... failed: {result.stderr.strip()}"
        raise RuntimeError(msg)
    return result.stdout.strip()


def remove_all() -> None:
    """Remove every sod-bench-* container and the sod-bench network (leftovers included)."""
    names = docker("ps", "-aq", "--filter", f"name=^{PREFIX}", check=False).split()
    if names:
        docker("rm", "-f", *names, check=False)
    if docker("network", "ls", "-q", "--filter", f"name=^{NETWORK}$", check=False):
        docker("network", "rm", NETWORK, check=False)


def remove(hosts: list[Host]) -> None:
    if hosts:
        docker("rm", "-f", *[host.container for host in hosts], check=False)


def ensure_network() -> None:
    if not docker("network", "ls", "-q", "--filter", f"name=^{NETWORK}$"):
        docker("network", "create", NETWORK)


def run_container(container: str, *extra: str) -> None:
    docker("rm", "-f", container, check=False)
    docker(
        "run", "-d", "--name", container, "--hostname", container, "--network", NETWORK,
        "--cap-add", "SYS_ADMIN", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--stop-signal", "SIGRTMIN+3",
        # What streamlit_app sets on a real host (a container's /proc/sys is read-only).
        "--sysctl", "net.ipv4.tcp_migrate_req=1", *extra,
    )  # fmt: skip


def wait_for_sshd(container: str) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if docker("exec", container, "systemctl", "is-active", "ssh", check=False) == "active":
            return
        time.sleep(0.5)
    msg = f"sshd in {container} did not start within {BOOT_TIMEOUT:.0f} s"
    raise RuntimeError(msg)


def add_login_user(container: str, public_key: str) -> None:
    """What cloud-init does on EC2: a login user with passwordless sudo and the key's public half."""
    user = LOGIN_USER
    script = (
        f"id -u {user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {user}\n"
        f"echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users\n"
        f"install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh\n"
        f"printf '%s\\n' '{public_key}' > /home/{user}/.ssh/authorized_keys\n"
        f"chown {user}:{user} /home/{user}/.ssh/authorized_keys && chmod 0600 /home/{user}/.ssh/authorized_keys\n"
    )
    docker("exec", container, "sh", "-ec", script)


def published_port(container: str, port: int) -> int:
    return int(docker("port", container, f"{port}/tcp").splitlines()[0].rsplit(":", 1)[1])


def start_hosts(label: str, count: int, public_key: Path) -> list[Host]:
    """Start count fresh hosts named sod-bench-<label>-<n>, booted, with the login user ready."""
    ensure_network()
    containers = [f"{PREFIX}{label}-{n}" for n in range(1, count + 1)]
    for container in containers:
        run_container(
            container,
            "-p", "127.0.0.1::22",
            "-p", f"127.0.0.1::{APP_PORT_IN_CONTAINER}",
            "-p", f"127.0.0.1::{HTTPS_PORT_IN_CONTAINER}",
            IMAGE, "/lib/systemd/systemd",
        )  # fmt: skip
        # The host's CA bundle may hold an HTTPS proxy's CA: the twins get it the same way.
        docker("cp", CA_BUNDLE, f"{container}:{CA_BUNDLE}")
    key = public_key.read_text().strip()
    hosts = []
    for n, container in enumerate(containers, start=1):
        wait_for_sshd(container)
        add_login_user(container, key)
        ssh_port = published_port(container, 22)
        app_port = published_port(container, APP_PORT_IN_CONTAINER)
        https_port = published_port(container, HTTPS_PORT_IN_CONTAINER)
        hosts.append(Host(f"{label}-{n}", container, ssh_port, app_port, https_port))
    return hosts


def cpu_seconds(hosts: list[Host]) -> float | None:
    """CPU time the containers of HOSTS have used so far, from their cgroups; None where it cannot be read.

    cgroup v2 (cpu.stat usage_usec) or v1 (cpuacct.usage, nanoseconds), under Docker's cgroupfs or systemd driver.
    """
    total = 0.0
    for host in hosts:
        cid = docker("inspect", "-f", "{{.Id}}", host.container)
        candidates = [
            (Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat"), "usec"),
            (Path(f"/sys/fs/cgroup/docker/{cid}/cpu.stat"), "usec"),
            (Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage"), "ns"),
            (Path(f"/sys/fs/cgroup/cpuacct/system.slice/docker-{cid}.scope/cpuacct.usage"), "ns"),
        ]
        for path, unit in candidates:
            try:
                text = path.read_text()
            except OSError:
                continue
            if unit == "ns":
                total += int(text) / 1e9
            else:
                fields = dict(line.split() for line in text.splitlines() if line.strip())
                total += int(fields["usage_usec"]) / 1e6
            break
        else:
            return None
    return total


def start_installer_server(directory: Path) -> str:
    """Serve the stand-in Miniconda installer to the hosts from a container; returns its URL prefix."""
    ensure_network()
    container = f"{PREFIX}http"
    server = ["python3", "-m", "http.server", "8000", "--directory", "/srv"]
    run_container(container, "-v", f"{directory}:/srv:ro", IMAGE, *server)
    return f"http://{container}:8000"
