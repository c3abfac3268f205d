"""Renewal on the host (evidence from side_effect.yml): a timer, a graceful reload, a failure that shows."""

from __future__ import annotations

import hashlib
import json
import ssl
from typing import Any

import pytest
import testinfra
from conftest import DOMAIN, DOMAIN_HOST, EPHEMERAL, IP_HOST, USERS, address_of, basic_auth, inventory_host, request

testinfra_hosts: list[str] = []


def record(host: str, moment: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EPHEMERAL / f"renewal-{host}-{moment}.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def poller() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EPHEMERAL / "poller-result.json").read_text())
    return loaded


def served_sha256(host: str, context: ssl.SSLContext) -> str:
    name = DOMAIN if host == DOMAIN_HOST else address_of(host)
    path = "/_stcore/health" if host == DOMAIN_HOST else "/dash/_stcore/health"
    answer = request(address_of(host), name, path, context=context, headers={"Authorization": basic_auth(USERS[0])})
    return hashlib.sha256(answer.certificate).hexdigest()


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_the_timer_is_enabled_and_scheduled(host: str) -> None:
    target = inventory_host(host)
    timer = target.service("front-door-renew.timer")
    assert timer.is_enabled
    assert timer.is_running
    assert target.check_output("systemctl show --property=NextElapseUSecRealtime --value front-door-renew.timer")


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_the_renewal_replaced_the_certificate(host: str) -> None:
    assert record(host, "before")["certificate_sha256"] != record(host, "after")["certificate_sha256"]
    assert record(host, "after")["service"]["Result"] == "success"


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_nginx_serves_the_renewed_certificate(host: str, trusting: ssl.SSLContext) -> None:
    assert served_sha256(host, trusting) == record(host, "after")["certificate_sha256"]


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_nginx_was_reloaded_not_restarted(host: str) -> None:
    assert record(host, "before")["nginx_pid"] == record(host, "after")["nginx_pid"]


def test_no_request_failed_during_the_renewals(poller: dict[str, Any]) -> None:
    assert poller["requests"] > 100
    assert poller["failed"] == 0, poller["failures"]


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_the_poller_saw_the_old_then_the_new_certificate(host: str, poller: dict[str, Any]) -> None:
    # While old workers finish, a new connection may still reach one of them: old and new may alternate
    # for a moment, but nothing else is served, and the new one stays.
    seen = poller["certificates"][DOMAIN if host == DOMAIN_HOST else address_of(host)]
    before, after = record(host, "before")["certificate_sha256"], record(host, "after")["certificate_sha256"]
    assert (seen[0], seen[-1], set(seen)) == (before, after, {before, after})


def test_open_websockets_survived_the_reloads(poller: dict[str, Any]) -> None:
    assert poller["websockets"] == {DOMAIN: True, address_of(IP_HOST): True}


def test_a_failed_renewal_leaves_the_service_failed() -> None:
    failed = record(DOMAIN_HOST, "failed")
    assert (failed["service"]["ActiveState"], failed["service"]["Result"]) == ("failed", "exit-code")


def test_the_journal_says_why_the_renewal_failed() -> None:
    journal = "\n".join(record(DOMAIN_HOST, "failed")["journal"])
    assert "All renewals failed" in journal
    assert DOMAIN in journal


def test_the_failure_is_still_visible(domain_host: testinfra.host.Host) -> None:
    assert domain_host.run("systemctl is-failed front-door-renew.service").stdout.strip() == "failed"


def test_a_failed_renewal_keeps_the_certificate_serving(trusting: ssl.SSLContext) -> None:
    assert record(DOMAIN_HOST, "failed")["certificate_sha256"] == record(DOMAIN_HOST, "after")["certificate_sha256"]
    assert served_sha256(DOMAIN_HOST, trusting) == record(DOMAIN_HOST, "after")["certificate_sha256"]
