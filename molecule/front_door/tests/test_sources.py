"""The alternatives to ACME, by explicit choice: a self-signed certificate and a provided one; the front door
turned off (state absent); then back to ACME.

Runs last (file order) and leaves the IP host as converge.yml does: on its ACME certificate.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="module")
def self_signed() -> Run:
    return converge({"front_door_certificate_source": "self_signed"}, IP_HOST, "-v")


def test_a_self_signed_certificate_is_served(self_signed: Run) -> None:
    assert self_signed.rc == 0, self_signed.output[-3000:]
    certificate = served(tls_context(None))
    assert certificate.issuer == certificate.subject
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [address_of(IP_HOST)]


def test_its_printed_fingerprint_is_the_served_one(self_signed: Run) -> None:
    fingerprint = served(tls_context(None)).fingerprint(hashes.SHA256()).hex(":").upper()
    assert f"SHA-256 {fingerprint}" in self_signed.output


def test_the_renewal_timer_is_off_without_acme(self_signed: Run, ip_host: testinfra.host.Host) -> None:
    timer = ip_host.service("front-door-renew.timer")
    assert not timer.is_enabled
    assert not timer.is_running


@pytest.fixture(scope="module")
def provided(self_signed: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ca_file, chain, key, other_key = make_certificate(address_of(IP_HOST), tmp_path_factory.mktemp("provided"))
    inputs = {
        "front_door_certificate_source": "provided",
        "front_door_provided_certificate": chain,
        "front_door_provided_private_key": key,
    }
    run = converge(inputs, IP_HOST, "-vvv")
    refused = converge({**inputs, "front_door_provided_private_key": other_key}, IP_HOST, "-v")
    return {"ca_file": ca_file, "key": key, "run": run, "refused": refused}


def test_a_provided_certificate_is_served(provided: dict[str, Any]) -> None:
    assert provided["run"].rc == 0, provided["run"].output[-3000:]
    # Verified against the test CA alone: the provided chain, for the address.
    assert served(tls_context(provided["ca_file"])).issuer.rfc4514_string() == "CN=front_door test CA"


def test_its_key_is_for_root_only_and_never_logged(provided: dict[str, Any], ip_host: testinfra.host.Host) -> None:
    key_file = ip_host.file("/etc/front-door/tls/provided-privkey.pem")
    assert (key_file.user, key_file.mode) == ("root", 0o600)
    body = provided["key"].splitlines()[1]
    assert body not in provided["run"].output


def test_a_key_that_does_not_match_is_refused_before_any_change(provided: dict[str, Any]) -> None:
    refused = provided["refused"]
    assert refused.rc != 0
    assert "front_door_provided_private_key does not match front_door_provided_certificate" in refused.output
    assert changed_count(refused) == 0
    assert served(tls_context(provided["ca_file"])).issuer.rfc4514_string() == "CN=front_door test CA"


@pytest.fixture(scope="module")
def absent(provided: dict[str, Any], ip_host: testinfra.host.Host) -> tuple[Run, str]:
    """The run that turns the front door off, and the certificate version certbot had then."""
    version = ip_host.check_output(f"readlink {LIVE_CERT}")
    return converge({"front_door_state": "absent"}, IP_HOST, "-v"), version


def test_turned_off_the_front_door_serves_nothing(absent: tuple[Run, str]) -> None:
    run, _ = absent
    assert run.rc == 0, run.output[-3000:]
    for port in (80, 443):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address_of(IP_HOST), port), timeout=5).close()


def test_turned_off_the_renewal_is_gone_and_the_certificate_kept(
    absent: tuple[Run, str], ip_host: testinfra.host.Host
) -> None:
    assert not ip_host.file("/etc/systemd/system/front-door-renew.timer").exists
    assert ip_host.file("/etc/front-door/letsencrypt/live/front-door/fullchain.pem").exists
    assert ip_host.service("nginx").is_running


def test_a_host_known_by_name_only_is_refused_before_any_change(back_to_acme: Run) -> None:
    # Without front_door_ip_address the host's address is ansible_host: here the container's name.
    refused = converge({"front_door_ip_address": ""}, IP_HOST, "-v")
    assert refused.rc != 0
    assert "front_door_ip_address is empty and the host is known as" in refused.output
    assert changed_count(refused) == 0


@pytest.fixture(scope="module")
def back_to_acme(absent: tuple[Run, str]) -> Run:
    return converge({}, IP_HOST, "-v")


def test_back_to_acme_the_certbot_certificate_is_served_again(
    back_to_acme: Run, trusting: ssl.SSLContext, ip_host: testinfra.host.Host
) -> None:
    assert back_to_acme.rc == 0, back_to_acme.output[-3000:]
    live = ip_host.file(ip_host.check_output(f"readlink -f {LIVE_CERT}"))
    served_sha256 = hashlib.sha256(served(trusting).public_bytes(serialization.Encoding.DER)).hexdigest()
    live_sha256 = hashlib.sha256(
        x509.load_pem_x509_certificate(live.content).public_bytes(serialization.Encoding.DER)
    ).hexdigest()
    assert served_sha256 == live_sha256
    assert ip_host.service("front-door-renew.timer").is_enabled


def test_back_to_acme_no_new_certificate_is_asked_for(
    back_to_acme: Run, absent: tuple[Run, str], ip_host: testinfra.host.Host
) -> None:
    assert ip_host.check_output(f"readlink {LIVE_CERT}") == absent[1]
