"""The certificates: from Pebble over HTTP-01, naming the domain or the IP address, TLS 1.2 and later only."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import testinfra
from conftest import DOMAIN, DOMAIN_HOST, EXTRA_DOMAIN, IP_HOST, address_of, inventory_host, request, tls_context
from cryptography import x509
from cryptography.x509.oid import NameOID

testinfra_hosts: list[str] = []


def served_certificate(address: str, name: str, context: ssl.SSLContext) -> x509.Certificate:
    return x509.load_der_x509_certificate(request(address, name, "/_stcore/health", context=context).certificate)


@pytest.mark.parametrize("name", [DOMAIN, EXTRA_DOMAIN])
def test_the_domain_certificate_chains_to_pebble_and_names_the_domain(name: str, trusting: ssl.SSLContext) -> None:
    # check_hostname is on: the handshake fails unless the certificate names NAME and chains to Pebble's root.
    certificate = served_certificate(address_of(DOMAIN_HOST), name, trusting)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(names.get_values_for_type(x509.DNSName)) == sorted([DOMAIN, EXTRA_DOMAIN])
    assert "Pebble" in certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_the_ip_certificate_chains_to_pebble_and_names_the_address(trusting: ssl.SSLContext) -> None:
    address = address_of(IP_HOST)
    certificate = served_certificate(address, address, trusting)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [address]
    assert names.get_values_for_type(x509.DNSName) == []


def test_the_certificates_are_not_trusted_without_pebbles_root() -> None:
    system = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        request(address_of(DOMAIN_HOST), DOMAIN, "/_stcore/health", context=system)


def test_a_name_the_certificate_does_not_hold_is_refused(trusting: ssl.SSLContext) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        request(address_of(DOMAIN_HOST), address_of(DOMAIN_HOST), "/_stcore/health", context=trusting)


def test_the_ip_certificate_was_asked_for_in_the_short_lived_profile(ip_host: testinfra.host.Host) -> None:
    renewal = ip_host.file("/etc/front-door/letsencrypt/renewal/front-door.conf").content_string
    assert "preferred_profile = shortlived" in renewal
    assert "required_profile" not in renewal


def test_the_domain_certificate_takes_the_servers_default_profile(domain_host: testinfra.host.Host) -> None:
    assert "profile" not in domain_host.file("/etc/front-door/letsencrypt/renewal/front-door.conf").content_string


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_served(version: ssl.TLSVersion, pebble_root: Path) -> None:
    context = tls_context(pebble_root)
    context.minimum_version = context.maximum_version = version
    assert request(address_of(IP_HOST), address_of(IP_HOST), "/dash/_stcore/health", context=context).status == 200


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_before_1_2_is_refused_by_the_server(version: ssl.TLSVersion) -> None:
    # The client is willing (security level 0 allows the old protocols); the server's alert refuses.
    context = tls_context(None)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|protocol version"):
        request(address_of(IP_HOST), address_of(IP_HOST), "/dash/_stcore/health", context=context)


def test_hsts_is_sent_by_default(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/_stcore/health", context=trusting)
    assert answer.headers["strict-transport-security"] == "max-age=31536000"


def test_hsts_can_be_turned_off(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(IP_HOST), address_of(IP_HOST), "/dash/_stcore/health", context=trusting)
    assert "strict-transport-security" not in answer.headers


@pytest.mark.parametrize("name", [DOMAIN_HOST, IP_HOST])
def test_the_private_key_is_for_root_only(name: str) -> None:
    host = inventory_host(name)
    key = host.file(host.check_output("readlink -f /etc/front-door/letsencrypt/live/front-door/privkey.pem"))
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert host.file("/etc/front-door/letsencrypt/archive").mode == 0o700
