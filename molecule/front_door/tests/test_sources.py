"""The alternatives to ACME, by explicit choice: a self-signed certificate and a provided one; the front door
turned off (state absent); then back to ACME.

Each switch records what the IP host served and ran right after it (as side_effect.yml does for test_renewal.py),
so the tests read that record, in any order. The module's teardown leaves the IP host as converge.yml does, on its
ACME certificate, whichever of its tests ran or failed: the other modules read that host.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra
from conftest import IP_HOST, Run, address_of, changed_count, converge, request, tls_context
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

testinfra_hosts: list[str] = []
PATH = "/dash/_stcore/health"
LIVE_CERT = "/etc/front-door/letsencrypt/live/front-door/cert.pem"


def served(context: ssl.SSLContext) -> x509.Certificate:
    address = address_of(IP_HOST)
    return x509.load_der_x509_certificate(request(address, address, PATH, context=context).certificate)


def issuer_served(context: ssl.SSLContext) -> str:
    """The issuer of the certificate served, verified with CONTEXT; or why it was not."""
    try:
        return served(context).issuer.rfc4514_string()
    except ssl.SSLError as error:
        return f"not verified: {error}"


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection((address_of(IP_HOST), port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def sha256(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def make_certificate(address: str, tmp: Path) -> tuple[Path, str, str, str]:
    """A test CA and a certificate it issued for ADDRESS: (the CA's file, the chain, its key, another key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "front_door test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file = tmp / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(pem))

    def key_pem(private: ec.EllipticCurvePrivateKey) -> str:
        return private.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

    other = ec.generate_private_key(ec.SECP256R1())
    return ca_file, (leaf.public_bytes(pem) + ca.public_bytes(pem)).decode(), key_pem(key), key_pem(other)


class IpHost:
    """Converges the IP host with other inputs, and knows whether it is left away from converge.yml's state."""

    def __init__(self) -> None:
        self.away = False

    def converge(self, inputs: dict[str, str], *options: str) -> Run:
        run = converge(inputs, IP_HOST, *options)
        if run.rc == 0:
            self.away = bool(inputs)
        elif not self.away:
            # A run refused before any change leaves the host as it was; another failure may not.
            self.away = run.recap().get(IP_HOST, {}).get("changed", 1) > 0
        return run


@pytest.fixture(scope="module", autouse=True)
def switches() -> Iterator[IpHost]:
    """The IP host's switches; when the module ends, whatever ran or failed, it is put back on ACME if need be."""
    host = IpHost()
    yield host
    if host.away:
        run = converge({}, IP_HOST, "-v")
        assert run.rc == 0, run.output[-3000:]


@dataclass(frozen=True)
class SelfSigned:
    run: Run
    certificate: x509.Certificate  # served right after the run
    timer: tuple[bool, bool]  # the renewal timer then: enabled, running


@pytest.fixture(scope="module")
def self_signed(switches: IpHost, ip_host: testinfra.host.Host) -> SelfSigned:
    run = switches.converge({"front_door_certificate_source": "self_signed"}, "-v")
    timer = ip_host.service("front-door-renew.timer")
    return SelfSigned(run, served(tls_context(None)), (timer.is_enabled, timer.is_running))


def test_a_self_signed_certificate_is_served(self_signed: SelfSigned) -> None:
    assert self_signed.run.rc == 0, self_signed.run.output[-3000:]
    certificate = self_signed.certificate
    assert certificate.issuer == certificate.subject
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [address_of(IP_HOST)]


def test_its_printed_fingerprint_is_the_served_one(self_signed: SelfSigned) -> None:
    fingerprint = self_signed.certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    assert f"SHA-256 {fingerprint}" in self_signed.run.output


def test_the_renewal_timer_is_off_without_acme(self_signed: SelfSigned) -> None:
    assert self_signed.timer == (False, False)


@dataclass(frozen=True)
class Provided:
    key: str
    run: Run
    issuer: str  # of the certificate served right after the run, verified with the test CA alone
    key_file: tuple[str, int] | None  # its owner and mode then
    refused: Run  # the same inputs with a key that does not match the certificate
    issuer_after_refusal: str


@pytest.fixture(scope="module")
def provided(
    self_signed: SelfSigned,
    switches: IpHost,
    ip_host: testinfra.host.Host,
    tmp_path_factory: pytest.TempPathFactory,
) -> Provided:
    ca_file, chain, key, other_key = make_certificate(address_of(IP_HOST), tmp_path_factory.mktemp("provided"))
    inputs = {
        "front_door_certificate_source": "provided",
        "front_door_provided_certificate": chain,
        "front_door_provided_private_key": key,
    }
    run = switches.converge(inputs, "-vvv")
    issuer = issuer_served(tls_context(ca_file))
    key_file = ip_host.file("/etc/front-door/tls/provided-privkey.pem")
    owner_mode = (key_file.user, key_file.mode) if key_file.exists else None
    refused = switches.converge({**inputs, "front_door_provided_private_key": other_key}, "-v")
    return Provided(key, run, issuer, owner_mode, refused, issuer_served(tls_context(ca_file)))


def test_a_provided_certificate_is_served(provided: Provided) -> None:
    assert provided.run.rc == 0, provided.run.output[-3000:]
    # Verified against the test CA alone: the provided chain, for the address.
    assert provided.issuer == "CN=front_door test CA"


def test_its_key_is_for_root_only_and_never_logged(provided: Provided) -> None:
    assert provided.key_file == ("root", 0o600)
    body = provided.key.splitlines()[1]
    assert body not in provided.run.output


def test_a_key_that_does_not_match_is_refused_before_any_change(provided: Provided) -> None:
    refused = provided.refused
    assert refused.rc != 0
    assert "front_door_provided_private_key does not match front_door_provided_certificate" in refused.output
    assert changed_count(refused) == 0
    assert provided.issuer_after_refusal == "CN=front_door test CA"


@dataclass(frozen=True)
class Absent:
    version: str  # the certificate version certbot had before the run
    run: Run
    refused_ports: list[int]  # of 80 and 443, those refusing connections right after the run
    timer_file: bool  # the renewal timer's unit file is there
    fullchain: bool  # the certificate is there
    nginx_running: bool


@pytest.fixture(scope="module")
def absent(provided: Provided, switches: IpHost, ip_host: testinfra.host.Host) -> Absent:
    """The run that turns the front door off, and the certificate version certbot had before it."""
    version = ip_host.check_output(f"readlink {LIVE_CERT}")
    run = switches.converge({"front_door_state": "absent"}, "-v")
    return Absent(
        version,
        run,
        [port for port in (80, 443) if refuses_connections(port)],
        ip_host.file("/etc/systemd/system/front-door-renew.timer").exists,
        ip_host.file("/etc/front-door/letsencrypt/live/front-door/fullchain.pem").exists,
        ip_host.service("nginx").is_running,
    )


def test_turned_off_the_front_door_serves_nothing(absent: Absent) -> None:
    assert absent.run.rc == 0, absent.run.output[-3000:]
    assert absent.refused_ports == [80, 443]


def test_turned_off_the_renewal_is_gone_and_the_certificate_kept(absent: Absent) -> None:
    assert not absent.timer_file
    assert absent.fullchain
    assert absent.nginx_running


@dataclass(frozen=True)
class BackToAcme:
    run: Run
    served_sha256: str  # right after the run, verified with Pebble's root
    live_sha256: str  # certbot's current certificate then
    timer_enabled: bool
    version: str  # certbot's current certificate version then


@pytest.fixture(scope="module")
def back_to_acme(
    absent: Absent, switches: IpHost, trusting: ssl.SSLContext, ip_host: testinfra.host.Host
) -> BackToAcme:
    run = switches.converge({}, "-v")
    live = ip_host.file(ip_host.check_output(f"readlink -f {LIVE_CERT}"))
    return BackToAcme(
        run,
        sha256(served(trusting)),
        sha256(x509.load_pem_x509_certificate(live.content)),
        ip_host.service("front-door-renew.timer").is_enabled,
        ip_host.check_output(f"readlink {LIVE_CERT}"),
    )


def test_back_to_acme_the_certbot_certificate_is_served_again(back_to_acme: BackToAcme) -> None:
    assert back_to_acme.run.rc == 0, back_to_acme.run.output[-3000:]
    assert back_to_acme.served_sha256 == back_to_acme.live_sha256
    assert back_to_acme.timer_enabled


def test_back_to_acme_no_new_certificate_is_asked_for(back_to_acme: BackToAcme, absent: Absent) -> None:
    assert back_to_acme.version == absent.version


def test_a_host_known_by_name_only_is_refused_before_any_change(back_to_acme: BackToAcme, switches: IpHost) -> None:
    # Without front_door_ip_address the host's address is ansible_host: here the container's name.
    refused = switches.converge({"front_door_ip_address": ""}, "-v")
    assert refused.rc != 0
    assert "front_door_ip_address is empty and the host is known as" in refused.output
    assert changed_count(refused) == 0
