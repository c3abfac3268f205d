"""Re-runs with front_door_skip_if_converged: the full path where there is no record or something drifted,
else one probe and the end of the role; and not even -vvv shows a password.

The scenario's own runs take the full path (the variable is false in molecule.yml).
"""

from __future__ import annotations

import pytest
import testinfra
from conftest import DOMAIN_HOST, USERS, Run, changed_count, converge

testinfra_hosts: list[str] = []
SKIP = {"front_door_skip_if_converged": True}
FULL_PATH_TASK = "Create the front door's directories"
HTTPS_CONF = "/etc/nginx/conf.d/front-door-https.conf"
RECORD = "/var/lib/streamlit-ops/converged/front_door.json"


@pytest.fixture(scope="module")
def unrecorded(domain_host: testinfra.host.Host) -> Run:
    """A run at -vvv with --diff (the most a log can show) on a host without a record."""
    domain_host.run(f"rm -f {RECORD}")
    return converge(SKIP, DOMAIN_HOST, "-vvv")


@pytest.fixture(scope="module")
def repair(unrecorded: Run, domain_host: testinfra.host.Host) -> tuple[Run, str]:
    """The configuration edited by hand, then a run."""
    written = domain_host.file(HTTPS_CONF).content_string
    domain_host.run(f"echo '# edited by hand' >> {HTTPS_CONF}")
    return converge(SKIP, DOMAIN_HOST, "-v"), written


@pytest.fixture(scope="module")
def shortcut(repair: tuple[Run, str]) -> Run:
    """A run with the same inputs right after the repair."""
    return converge(SKIP, DOMAIN_HOST, "-v")


def test_a_host_without_a_record_takes_the_full_path_and_changes_nothing(unrecorded: Run) -> None:
    assert unrecorded.rc == 0, unrecorded.output[-3000:]
    assert "no record of an earlier run" in unrecorded.output
    assert FULL_PATH_TASK in unrecorded.output
    assert changed_count(unrecorded) == 0


def test_no_password_reaches_the_log(unrecorded: Run) -> None:
    assert "Hash the passwords" in unrecorded.output  # the task ran: the passwords went to openssl
    for user in USERS:
        assert user["password"] not in unrecorded.output


def test_a_drifted_configuration_takes_the_full_path(repair: tuple[Run, str]) -> None:
    run, _ = repair
    assert run.rc == 0, run.output[-3000:]
    assert f"{HTTPS_CONF} changed" in run.output
    assert FULL_PATH_TASK in run.output


def test_the_full_path_puts_the_configuration_back(repair: tuple[Run, str], domain_host: testinfra.host.Host) -> None:
    run, written = repair
    assert domain_host.file(HTTPS_CONF).content_string == written
    assert changed_count(run) == 2  # the file, and nginx's reload


def test_a_converged_front_door_is_left_after_one_probe(shortcut: Run) -> None:
    assert shortcut.rc == 0, shortcut.output[-3000:]
    assert changed_count(shortcut) == 0
    assert "reason: in sync" in shortcut.output
    assert "End the role, nothing to change" in shortcut.output
    assert FULL_PATH_TASK not in shortcut.output


def test_the_shortcut_still_publishes_and_tells_the_url(shortcut: Run) -> None:
    assert "front_door_url: https://" in shortcut.output
    assert "The front door serves https://" in shortcut.output


def test_the_record_is_for_root_only_and_holds_no_password(shortcut: Run, domain_host: testinfra.host.Host) -> None:
    record = domain_host.file(RECORD)
    assert (record.user, record.mode) == ("root", 0o600)
    for user in USERS:
        assert user["password"] not in record.content_string
