"""Bad input fails before anything changes, with a message naming the variable.

Runs ../bad_input.yml against every scenario host with one bad variable at a time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import Run, run_playbook

PLAYBOOK = Path(__file__).resolve().parent.parent / "bad_input.yml"

CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    # Refused on the controller, before the host is touched (tests/bad_inputs/tmux_service.yml has the rest).
    "empty command": ({"tmux_service_command": ""}, ["tmux_service_command must be a non-empty"]),
    "root without opt-in": ({"tmux_service_user": "root"}, ["tmux_service_user", "tmux_service_allow_root is true"]),
    # Refused on the host (the preflight), before anything changes.
    "missing user, no creation": (
        {"tmux_service_create_user": False},
        ['tmux_service_user "bad-input"', "does not exist", "tmux_service_create_user"],
    ),
    "the unit of a system service": (
        {"tmux_service_unit_name": "ssh"},
        ["tmux_service_unit_name", "ssh.service already exists", "was not written by this role"],
    ),
    "a user in the sudo group": (
        {"tmux_service_user": "privileged", "tmux_service_create_user": False},
        ['tmux_service_user "privileged"', "member of sudo"],
    ),
    "a user with a sudoers rule": (
        {"tmux_service_user": "sudoer", "tmux_service_create_user": False},
        ['tmux_service_user "sudoer"', "sudo rights"],
    ),
    "a log directory a service user can write": (
        {"tmux_service_log_file": "/var/log/shared/bad-input.log"},
        ["tmux_service_log_file /var/log/shared/bad-input.log", "writable by a user other than root"],
    ),
}


def run_with(extra_vars: dict[str, Any]) -> Run:
    return run_playbook(
        PLAYBOOK, inventory=os.environ["MOLECULE_INVENTORY_FILE"], extra_vars={"target": "all", **extra_vars}
    )


@pytest.mark.parametrize(("extra_vars", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_input_fails_naming_the_variable(extra_vars: dict[str, Any], expected: list[str]) -> None:
    result = run_with(extra_vars)
    output = " ".join(result.output.split())
    assert result.rc != 0
    for text in expected:
        assert text in output
    recaps = [(counts["changed"], counts["failed"]) for counts in result.recap().values()]
    assert len(recaps) == 2
    assert recaps == [(0, 1), (0, 1)]


def test_the_system_service_refused_as_a_unit_name_still_runs(host: Any) -> None:
    ssh = host.service("ssh")
    assert ssh.is_running
    assert "streamlit-ops" not in host.file("/lib/systemd/system/ssh.service").content_string
