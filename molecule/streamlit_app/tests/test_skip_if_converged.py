"""streamlit_app_skip_if_converged: one probe instead of the full path, unless something drifted.

Runs after test_lifecycle.py (file order), on the app host it left serving a local-folder
release; the scenario's own runs take the full path (the variable is false in molecule.yml),
and they record what they left all the same (a run with other inputs removes the record).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import testinfra
from conftest import BASE, HEALTH, Run, changed_count, current_release

testinfra_hosts: list[str] = []
SRC = Path(__file__).resolve().parents[3] / "examples" / "hello_streamlit"
CONFIG = f"{BASE}/.streamlit/config.toml"
LOGROTATE = "/etc/logrotate.d/tmux-service-streamlit-hello"
SKIP: dict[str, Any] = {
    "streamlit_app_repo": "",
    "streamlit_app_src": str(SRC),
    "streamlit_app_skip_if_converged": True,
}
FULL_PATH_TASK = "Create the app directories"


@pytest.fixture(scope="module")
def converged(playbook: Callable[..., Run], app_host: testinfra.host.Host) -> tuple[Run, str]:
    # The bad-input runs before this one had other inputs, so their probe removed the record:
    # this run takes the full path and records again (changing nothing), the next one is measured.
    settle = playbook(SKIP)
    assert settle.rc == 0, settle.output[-3000:]
    assert changed_count(settle) == 0
    release = current_release(app_host)
    return playbook(SKIP), release


def test_a_converged_app_is_left_after_one_probe(converged: tuple[Run, str], app_host: testinfra.host.Host) -> None:
    run, release = converged
    assert run.rc == 0, run.output[-3000:]
    assert changed_count(run) == 0
    assert "reason: in sync" in run.output
    assert "End the role, nothing to change" in run.output
    assert FULL_PATH_TASK not in run.output
    assert current_release(app_host) == release


def test_the_shortcut_still_prints_where_the_app_is_served(converged: tuple[Run, str]) -> None:
    assert "App URL http://" in converged[0].output


def test_the_record_is_readable_by_root_only(converged: tuple[Run, str], app_host: testinfra.host.Host) -> None:
    record = app_host.file("/var/lib/streamlit-ops/converged/streamlit_app-hello.json")
    assert (record.user, record.mode) == ("root", 0o600)
    assert "molecule-s3cret" not in app_host.check_output("cat /var/lib/streamlit-ops/converged/*.json")


@pytest.fixture(scope="module")
def drifted(playbook: Callable[..., Run], app_host: testinfra.host.Host, converged: tuple[Run, str]) -> tuple[Run, str]:
    original = app_host.file(CONFIG).content_string
    app_host.run_expect([0], f"echo '# edited by hand' >> {CONFIG}")
    return playbook(SKIP), original


def test_an_edited_config_takes_the_full_path_and_is_restored(
    drifted: tuple[Run, str], app_host: testinfra.host.Host
) -> None:
    run, original = drifted
    assert run.rc == 0, run.output[-3000:]
    assert f"reason: {CONFIG} changed (content)" in run.output
    assert FULL_PATH_TASK in run.output
    assert changed_count(run) == 1
    assert app_host.file(CONFIG).content_string == original


@pytest.fixture(scope="module")
def stopped(playbook: Callable[..., Run], app_host: testinfra.host.Host, drifted: tuple[Run, str]) -> Run:
    app_host.run_expect([0], "systemctl stop streamlit-hello.service")
    return playbook(SKIP)


def test_a_stopped_service_takes_the_full_path_and_serves_again(stopped: Run, app_host: testinfra.host.Host) -> None:
    assert stopped.rc == 0, stopped.output[-3000:]
    assert "reason: streamlit-hello.service is inactive (was active)" in stopped.output
    assert app_host.check_output(HEALTH) == "ok"


@pytest.fixture(scope="module")
def unrotated(playbook: Callable[..., Run], app_host: testinfra.host.Host, stopped: Run) -> Run:
    app_host.run_expect([0], f"rm {LOGROTATE}")
    return playbook(SKIP)


def test_a_removed_log_rotation_takes_the_full_path_and_is_restored(
    unrotated: Run, app_host: testinfra.host.Host
) -> None:
    assert unrotated.rc == 0, unrotated.output[-3000:]
    assert f"reason: {LOGROTATE} is now missing (was file)" in unrotated.output
    assert changed_count(unrotated) == 1
    assert app_host.file(LOGROTATE).is_file
    assert app_host.run(f"logrotate --debug {LOGROTATE}").rc == 0


def test_after_the_repair_the_shortcut_applies_again(playbook: Callable[..., Run], unrotated: Run) -> None:
    run = playbook(SKIP)
    assert run.rc == 0, run.output[-3000:]
    assert changed_count(run) == 0
    assert FULL_PATH_TASK not in run.output


# The collection's ansible.cfg turns pipelining on (Molecule's does not): then the probe asks the
# host's Python directly, and falls back to the module only when the host is not in sync.
PIPELINED = {"ANSIBLE_PIPELINING": "true"}


def test_with_pipelining_a_converged_app_is_left_after_one_probe(
    playbook: Callable[..., Run], app_host: testinfra.host.Host
) -> None:
    release = current_release(app_host)
    run = playbook(SKIP, env=PIPELINED)
    assert run.rc == 0, run.output[-3000:]
    assert changed_count(run) == 0
    assert "reason: in sync" in run.output
    assert FULL_PATH_TASK not in run.output
    assert current_release(app_host) == release


def test_with_pipelining_a_stopped_service_is_still_found_and_started(
    playbook: Callable[..., Run], app_host: testinfra.host.Host
) -> None:
    app_host.run_expect([0], "systemctl stop streamlit-hello.service")
    run = playbook(SKIP, env=PIPELINED)
    assert run.rc == 0, run.output[-3000:]
    assert "reason: streamlit-hello.service is inactive (was active)" in run.output
    assert FULL_PATH_TASK in run.output
    assert app_host.check_output(HEALTH) == "ok"
