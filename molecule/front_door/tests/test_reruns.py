"""Re-runs: a drifted front door is repaired (and not even -vvv shows a password); the role
publishes what it manages for the gate (streamlit_ops.deploy.converged, tested around
configure.yml in the security scenario).
"""

from __future__ import annotations

import pytest
import testinfra
from conftest import DOMAIN_HOST, USERS, Run, changed_count, converge

testinfra_hosts: list[str] = []
FULL_PATH_TASK = "Create the front door's directories"
HTTPS_CONF = "/etc/nginx/conf.d/front-door-https.conf"


@pytest.fixture(scope="module")
def repair(domain_host: testinfra.host.Host) -> tuple[Run, str]:
    """nginx's configuration edited by hand, then a run at -vvv with --diff (the most a log can show)."""
    written = domain_host.file(HTTPS_CONF).content_string
    domain_host.run(f"echo '# edited by hand' >> {HTTPS_CONF}")
    return converge({}, DOMAIN_HOST, "-vvv"), written


def test_a_drifted_front_door_takes_the_full_path(repair: tuple[Run, str]) -> None:
    run, _ = repair
    assert run.rc == 0, run.output[-3000:]
    assert FULL_PATH_TASK in run.output


def test_the_full_path_puts_the_configuration_back(repair: tuple[Run, str], domain_host: testinfra.host.Host) -> None:
    run, written = repair
    assert domain_host.file(HTTPS_CONF).content_string == written
    assert changed_count(run) == 2  # the file, and nginx's reload


def test_no_password_reaches_the_log(repair: tuple[Run, str]) -> None:
    run, _ = repair
    assert "Hash the passwords" in run.output  # the task ran: the passwords went to openssl
    for user in USERS:
        assert user["password"] not in run.output


def test_the_role_publishes_what_it_manages_for_the_gate(repair: tuple[Run, str]) -> None:
    run, _ = repair
    managed = run.output.split("front_door_managed:", 1)[1]
    for path in (HTTPS_CONF, "/etc/front-door/htpasswd", "/etc/front-door/letsencrypt/live/front-door/fullchain.pem"):
        assert path in managed
    assert "nginx.service" in managed
    assert "front-door-renew.timer" in managed
    assert "App URL https://" in run.output
