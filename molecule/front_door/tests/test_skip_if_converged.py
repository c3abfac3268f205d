"""front_door_skip_if_converged: one probe instead of the full path, unless something drifted.

The scenario's own runs take the full path (the variable is false in molecule.yml); they record
what they left all the same, and the renewals of side_effect.yml changed the certificates since.
"""

from __future__ import annotations

import pytest
import testinfra
from conftest import IP_HOST, Run, changed_count, converge

testinfra_hosts: list[str] = []
SKIP = {"front_door_skip_if_converged": True}
FULL_PATH_TASK = "Create the front door's directories"
HTTPS_CONF = "/etc/nginx/conf.d/front-door-https.conf"


@pytest.fixture(scope="module")
def converged() -> Run:
    # The certificate was renewed since the last record: this run takes the full path and records again.
    settle = converge(SKIP, IP_HOST, "-v")
    assert settle.rc == 0, settle.output[-3000:]
    assert changed_count(settle) == 0
    return converge(SKIP, IP_HOST, "-v")


def test_a_converged_front_door_is_left_after_one_probe(converged: Run) -> None:
    assert converged.rc == 0, converged.output[-3000:]
    assert changed_count(converged) == 0
    assert "reason: in sync" in converged.output
    assert "End the role, nothing to change" in converged.output
    assert FULL_PATH_TASK not in converged.output


def test_the_shortcut_still_publishes_and_tells_the_url(converged: Run) -> None:
    assert "front_door_url: https://" in converged.output
    assert "The front door serves https://" in converged.output


def test_the_record_is_readable_by_root_only(converged: Run, ip_host: testinfra.host.Host) -> None:
    record = ip_host.file("/var/lib/streamlit-ops/converged/front_door.json")
    assert (record.user, record.mode) == ("root", 0o600)


@pytest.fixture
def edited_config(ip_host: testinfra.host.Host) -> str:
    """The configuration as the role wrote it; the file itself then gets a line more."""
    original = ip_host.file(HTTPS_CONF).content_string
    ip_host.run(f"echo '# edited by hand' >> {HTTPS_CONF}")
    return original


def test_an_edited_configuration_takes_the_full_path_and_is_put_back(
    converged: Run, edited_config: str, ip_host: testinfra.host.Host
) -> None:
    run = converge(SKIP, IP_HOST, "-v")
    assert run.rc == 0, run.output[-3000:]
    assert f"{HTTPS_CONF} changed" in run.output
    assert FULL_PATH_TASK in run.output
    assert changed_count(run) >= 1
    assert ip_host.file(HTTPS_CONF).content_string == edited_config
