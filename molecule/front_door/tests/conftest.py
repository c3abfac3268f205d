"""Shared fixtures: the test bed (addresses, Pebble's root), HTTPS requests through the front doors, playbook runs."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

from tests.support.playbook import Run, run_playbook

SCENARIO = Path(__file__).resolve().parent.parent
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
DOMAIN_HOST = "sod-front_door-debian12"
IP_HOST = "sod-front_door-debian13"
ACME_HOST = "sod-front_door-acme"
HOST_VARS: dict[str, dict[str, Any]] = yaml.safe_load((SCENARIO / "molecule.yml").read_text())["provisioner"][
    "inventory"
]["host_vars"]
DOMAIN: str = HOST_VARS[DOMAIN_HOST]["front_door_domain"]
EXTRA_DOMAIN: str = HOST_VARS[DOMAIN_HOST]["front_door_extra_domains"][0]
USERS: list[dict[str, str]] = HOST_VARS[DOMAIN_HOST]["front_door_basic_auth_users"]
TIMEOUT = 10.0


@dataclass
class Answer:
    """One HTTP answer, and the certificate that came with it."""

    status: int
    headers: dict[str, str]
    body: bytes
    certificate: bytes = field(repr=False)


def testbed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EPHEMERAL / "testbed.yml").read_text())
    return loaded


def address_of(host: str) -> str:
    return str(testbed()["sod_testbed_addresses"][host])


def basic_auth(user: dict[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{user['name']}:{user['password']}".encode()).decode()


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """Trusting CAFILE alone (not the system's store), or nothing: then the certificate is not checked."""
    if cafile is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(cafile))
    return context


def request(
    address: str,
    name: str,
    path: str,
    *,
    context: ssl.SSLContext | None = None,
    port: int | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    """One request over a new connection to ADDRESS, asking for NAME (SNI and Host); plain HTTP without CONTEXT."""
    raw = socket.create_connection((address, port or (443 if context else 80)), timeout=TIMEOUT)
    sock: socket.socket = context.wrap_socket(raw, server_hostname=name) if context else raw
    with sock:
        certificate = (sock.getpeercert(binary_form=True) or b"") if isinstance(sock, ssl.SSLSocket) else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {name}", "Connection: close", f"Content-Length: {len(body)}"]
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        # A server may answer (and close) before the whole body is sent: then read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, content = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    return Answer(int(status_line.split()[1]), {k.lower(): v for k, v in parsed.items()}, content, certificate)


@pytest.fixture(scope="session")
def pebble_root() -> Path:
    """Pebble's root certificate, from its management API (prepare.yml): the tests' only trust anchor."""
    return EPHEMERAL / "pebble-root.pem"


@pytest.fixture(scope="session")
def trusting(pebble_root: Path) -> ssl.SSLContext:
    return tls_context(pebble_root)


def inventory_host(name: str) -> testinfra.host.Host:
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


@pytest.fixture(scope="session")
def domain_host() -> testinfra.host.Host:
    return inventory_host(DOMAIN_HOST)


@pytest.fixture(scope="session")
def ip_host() -> testinfra.host.Host:
    return inventory_host(IP_HOST)


@pytest.fixture(scope="session")
def acme_host() -> testinfra.host.Host:
    return inventory_host(ACME_HOST)


def converge(extra_vars: dict[str, Any], limit: str, *options: str) -> Run:
    """Run the scenario's converge.yml on LIMIT with EXTRA_VARS (given in a file, never on the command line)."""
    cfg = EPHEMERAL / "ansible.cfg"
    return run_playbook(
        SCENARIO / "converge.yml",
        inventory=os.environ["MOLECULE_INVENTORY_FILE"],
        extra_vars=extra_vars,
        options=["--diff", "--limit", limit, *options],
        env={"ANSIBLE_CONFIG": str(cfg)} if cfg.exists() else None,
    )


def changed_count(run: Run) -> int:
    """The changed= count of the run's recap (one host)."""
    for line in run.output.splitlines():
        if " changed=" in line and " ok=" in line:
            return int(line.split(" changed=")[1].split()[0])
    raise AssertionError(run.output[-2000:])
