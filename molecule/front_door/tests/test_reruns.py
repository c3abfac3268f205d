"""Re-runs with front_door_skip_if_converged: the full path when something drifted, else one probe and
the end of the role; and not even -vvv shows a password.

The scenario's own runs take the full path (the variable is false in molecule.yml); they record
what they left all the same.
"""

from __future__ import annotations

import json

import pytest
import testinfra
from conftest import DOMAIN_HOST, USERS, Run, changed_count, converge

testinfra_hosts: list[str] = []
SKIP = {"front_door_skip_if_converged": True}
FULL_PATH_TASK = "Create the front door's directories"
HTTPS_CONF = "/etc/nginx/conf.d/front-door-https.conf"
RECORD = "/var/lib/streamlit-ops/converged/front_door.json"


@pytest.fixture(scope="module")
def repair(domain_host: testinfra.host.Host) -> tuple[Run, str]:
    """nginx's configuration edited by hand, then a run at -vvv with --diff (the most a log can show)."""
    written = domain_host.file(HTTPS_CONF).content_string
    domain_host.run(f"echo '# edited by hand' >> {HTTPS_CONF}")
    return converge(SKIP, DOMAIN_HOST, "-vvv"), written


@pytest.fixture(scope="module")
def shortcut(repair: tuple[Run, str]) -> Run:
    """A run with the same inputs right after the repair."""
    return converge(SKIP, DOMAIN_HOST, "-v")


def test_a_drifted_front_door_takes_the_full_path(repair: tuple[Run, str]) -> None:
    run, _ = repair
    assert run.rc == 0, run.output[-3000:]
    assert "in_sync: false" in run.output
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


def test_a_converged_front_door_is_left_after_one_probe(shortcut: Run) -> None:
    assert shortcut.rc == 0, shortcut.output[-3000:]
    assert changed_count(shortcut) == 0
    assert "reason: in sync" in shortcut.output
    assert "End the role, nothing to change" in shortcut.output
    assert FULL_PATH_TASK not in shortcut.output


def test_the_shortcut_still_publishes_and_tells_the_url(shortcut: Run) -> None:
    assert "front_door_url: https://" in shortcut.output
    assert "The front door serves https://" in shortcut.output


def test_the_record_covers_the_configuration_the_certificate_and_the_units(
    shortcut: Run, domain_host: testinfra.host.Host
) -> None:
    record = json.loads(domain_host.file(RECORD).content_string)
    assert {HTTPS_CONF, "/etc/front-door/htpasswd", "/etc/front-door/letsencrypt/live/front-door/fullchain.pem"} <= set(
        record["files"]
    )
    assert set(record["units"]) == {"nginx.service", "front-door-renew.timer"}


def test_the_record_is_for_root_only_and_holds_no_password(shortcut: Run, domain_host: testinfra.host.Host) -> None:
    record = domain_host.file(RECORD)
    assert (record.user, record.mode) == ("root", 0o600)
    for user in USERS:
        assert user["password"] not in record.content_string
