"""Test hosts: SSH twins (tests/support/twins.py) from the Debian 12 image, reached over SSH on loopback.

Every container the harness starts is named sod-bench-* and sits on the network
sod-bench, so a run can remove the leftovers of an interrupted one first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support import twins
from tests.support.twins import docker

PREFIX = "sod-bench-"
NETWORK = "sod-bench"
IMAGE = "local/streamlit-ops-debian12:latest"
LOGIN_USER = "bench"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Where the front door (nginx) serves HTTPS inside a host (front_door_https_port's default).
HTTPS_PORT = 443


@dataclass(frozen=True)
class Host(twins.Twin):
    """A running twin, its inventory name and the loopback port its front door's HTTPS is published on."""

    name: str
    https_port: int

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


def remove_all() -> None:
    """Remove every sod-bench-* container and the sod-bench network (leftovers included)."""
    twins.remove(docker("ps", "-aq", "--filter", f"name=^{PREFIX}", check=False).split())
    if docker("network", "ls", "-q", "--filter", f"name=^{NETWORK}$", check=False):
        docker("network", "rm", NETWORK, check=False)


def remove(hosts: list[Host]) -> None:
    twins.remove([host.container for host in hosts])


def start_hosts(label: str, count: int, public_key: Path) -> list[Host]:
    """Start count fresh hosts named sod-bench-<label>-<n>, booted, with the login user ready."""
    key = public_key.read_text().strip()
    # The host's CA bundle may hold an HTTPS proxy's CA: the twins get it the same way.
    specs = [
        twins.Spec(
            f"{PREFIX}{label}-{n}", NETWORK, IMAGE, LOGIN_USER, key, ca_bundle=CA_BUNDLE, extra_ports=(HTTPS_PORT,)
        )
        for n in range(1, count + 1)
    ]
    for spec in specs:  # all boot at once
        twins.start(spec)
    hosts = []
    for n, spec in enumerate(specs, start=1):
        twin = twins.ready(spec)
        https_port = twins.published_port(twin.container, HTTPS_PORT)
        hosts.append(Host(twin.container, twin.ssh_port, twin.app_port, f"{label}-{n}", https_port))
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
    container = f"{PREFIX}http"
    server = ["python3", "-m", "http.server", "8000", "--directory", "/srv"]
    twins.run_container(container, NETWORK, "--hostname", container, "-v", f"{directory}:/srv:ro", IMAGE, *server)
    return f"http://{container}:8000"
