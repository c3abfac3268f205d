"""Access control at the proxy: HTTP basic authentication and an IP allowlist."""

from __future__ import annotations

import ssl

import testinfra
from conftest import DOMAIN, DOMAIN_HOST, IP_HOST, USERS, address_of, basic_auth, request

testinfra_hosts: list[str] = []


def test_the_app_refuses_a_request_without_credentials(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/", context=trusting)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Basic realm="Streamlit"'


def test_the_app_refuses_a_wrong_password(trusting: ssl.SSLContext) -> None:
    wrong = {"name": USERS[0]["name"], "password": USERS[1]["password"]}
    answer = request(
        address_of(DOMAIN_HOST), DOMAIN, "/", context=trusting, headers={"Authorization": basic_auth(wrong)}
    )
    assert answer.status == 401


def test_every_user_gets_in_with_their_password(trusting: ssl.SSLContext) -> None:
    for user in USERS:
        answer = request(
            address_of(DOMAIN_HOST), DOMAIN, "/", context=trusting, headers={"Authorization": basic_auth(user)}
        )
        assert answer.status == 200, user["name"]


def test_the_websocket_needs_credentials_too(trusting: ssl.SSLContext) -> None:
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/_stcore/stream", context=trusting, headers=upgrade)
    assert answer.status == 401


def test_the_health_check_needs_no_credentials(trusting: ssl.SSLContext) -> None:
    answer = request(address_of(DOMAIN_HOST), DOMAIN, "/_stcore/health", context=trusting)
    assert (answer.status, answer.body) == (200, b"ok")


def test_the_password_file_holds_salted_hashes_for_nginx_only(domain_host: testinfra.host.Host) -> None:
    htpasswd = domain_host.file("/etc/front-door/htpasswd")
    assert (htpasswd.user, htpasswd.group, htpasswd.mode) == ("root", "www-data", 0o640)
    lines = [line for line in htpasswd.content_string.splitlines() if line and not line.startswith("#")]
    assert [line.split(":", 1)[0] for line in lines] == [user["name"] for user in USERS]
    hashes = [line.split(":", 1)[1] for line in lines]
    assert all(h.startswith("$6$") for h in hashes)
    assert len({h.split("$")[2] for h in hashes}) == len(hashes)  # a salt of its own each
    for user in USERS:
        assert user["password"] not in htpasswd.content_string


def test_the_allowlist_refuses_another_address(acme_host: testinfra.host.Host) -> None:
    address = address_of(IP_HOST)
    status = acme_host.check_output(f"curl -sk -o /dev/null -w '%{{http_code}}' https://{address}/dash/_stcore/health")
    assert status == "403"


def test_the_allowlist_lets_the_listed_address_in(trusting: ssl.SSLContext) -> None:
    # The controller (this test) is the one address on the list.
    assert request(address_of(IP_HOST), address_of(IP_HOST), "/dash/_stcore/health", context=trusting).status == 200


def test_the_allowlist_leaves_the_acme_challenge_open(acme_host: testinfra.host.Host) -> None:
    address = address_of(IP_HOST)
    status = acme_host.check_output(
        f"curl -s -o /dev/null -w '%{{http_code}}' http://{address}/.well-known/acme-challenge/no-such-token"
    )
    assert status == "404"
