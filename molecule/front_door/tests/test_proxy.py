"""Proxying for Streamlit: redirects, the base path, uploads, the challenge path, nothing behind it reachable."""

from __future__ import annotations

import ssl

import pytest
import testinfra
from conftest import DOMAIN, DOMAIN_HOST, EXTRA_DOMAIN, IP_HOST, USERS, address_of, basic_auth, inventory_host, request

testinfra_hosts: list[str] = []


@pytest.mark.parametrize("name", [DOMAIN, EXTRA_DOMAIN])
def test_http_redirects_to_https_keeping_the_name_and_path(name: str) -> None:
    answer = request(address_of(DOMAIN_HOST), name, "/some/page?x=1")
    assert answer.status == 301
    assert answer.headers["location"] == f"https://{name}/some/page?x=1"


def test_http_for_an_unknown_name_redirects_to_the_domain() -> None:
    answer = request(address_of(DOMAIN_HOST), "elsewhere.example", "/")
    assert answer.headers["location"] == f"https://{DOMAIN}/"


def test_http_redirects_to_the_ip_address() -> None:
    address = address_of(IP_HOST)
    answer = request(address, address, "/dash/")
    assert (answer.status, answer.headers["location"]) == (301, f"https://{address}/dash/")


def test_the_acme_challenge_path_is_not_redirected() -> None:
    # Served from certbot's webroot (empty between challenges) over plain HTTP, as ACME servers need.
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/.well-known/acme-challenge/no-such-token")
    assert answer.status == 404
    assert "location" not in answer.headers


def test_the_app_answers_through_the_proxy(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(IP_HOST), address_of(IP_HOST), "/dash/_stcore/health", context=trusting)
    assert (answer.status, answer.body) == (200, b"ok")


def test_the_root_redirects_to_the_base_path(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(IP_HOST), address_of(IP_HOST), "/", context=trusting)
    assert (answer.status, answer.headers["location"]) == (302, "/dash/")


def test_the_page_is_streamlits(trusting: ssl.SSLContext) -> None:
    auth = {"Authorization": basic_auth(USERS[0])}
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/", context=trusting, headers=auth)
    assert answer.status == 200
    assert b"<title>Streamlit</title>" in answer.body


def test_an_upload_over_the_limit_is_refused_by_the_proxy(trusting: ssl.SSLContext) -> None:
    # Streamlit's maxUploadSize is 50 MB on this host (streamlit_app_config): nginx's limit follows it.
    # (test_browser.py uploads 20 MB, over nginx's default of 1 MB, through the app.)
    address = address_of(IP_HOST)
    body = b"x" * (51 * 1024 * 1024)
    answer = request(address, address, "/dash/_stcore/upload_file/x/y", context=trusting, method="PUT", body=body)
    assert answer.status == 413
    assert b"nginx" in answer.body


@pytest.mark.parametrize(("name", "port"), [(DOMAIN_HOST, 8501), (IP_HOST, 8601)])
def test_the_streamlit_port_is_not_reachable_from_another_container(
    name: str, port: int, acme_host: testinfra.host.Host
) -> None:
    probe = acme_host.run(f"curl -sS --max-time 5 http://{address_of(name)}:{port}/_stcore/health")
    assert probe.rc == 7, probe.stderr  # curl: could not connect


@pytest.mark.parametrize(("name", "port"), [(DOMAIN_HOST, 8501), (IP_HOST, 8601)])
def test_streamlit_listens_on_loopback_only(name: str, port: int) -> None:
    host = inventory_host(name)
    listening = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    assert listening == [f"tcp://127.0.0.1:{port}"]
