"""Bad input fails before anything changes, with a message naming the variable.

Runs ../bad_input.yml against every scenario host with one bad variable at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PLAYBOOK = Path(__file__).resolve().parent.parent / "bad_input.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "empty command": ({"tmux_service_command": ""}, ["tmux_service_command must be a non-empty"]),
    "blank command": ({"tmux_service_command": "   "}, ["tmux_service_command must be a non-empty"]),
    "session with a dot": ({"tmux_service_session": "my.app"}, ["tmux_service_session", "tmux rejects '.' and ':'"]),
    "session with a colon": ({"tmux_service_session": "my:app"}, ["tmux_service_session", "tmux rejects '.' and ':'"]),
    "missing user, no creation": (
        {"tmux_service_create_user": False},
        ['tmux_service_user "bad-input"', "does not exist", "tmux_service_create_user"],
    ),
    "unknown restart policy": (
        {"tmux_service_restart": "sometimes"},
        ["tmux_service_restart", "always, on-failure"],
    ),
    "stop timeout of zero": ({"tmux_service_stop_timeout": 0}, ["tmux_service_stop_timeout must be 1 to 3600"]),
    "two-line readiness pattern": (
        {"tmux_service_ready_pattern": "ready\nserving"},
        ["tmux_service_ready_pattern must be one line"],
    ),
    "ready timeout of zero": (
        {"tmux_service_ready_pattern": "ready", "tmux_service_ready_timeout": 0},
        ["tmux_service_ready_timeout 1 to 3600 seconds, got 0"],
    ),
    "rotation size with a unit logrotate does not know": (
        {"tmux_service_log_rotate_size": "10MB"},
        ["tmux_service_log_rotate_size must be a size in logrotate's notation", '"10MB"'],
    ),
    "negative count of rotated logs": (
        {"tmux_service_log_rotate_keep": -1},
        ["tmux_service_log_rotate_keep 0 to 1000 rotated copies, got -1"],
    ),
    "count of rotated logs that is not a number": (
        {"tmux_service_log_rotate_keep": "many"},
        ["tmux_service_log_rotate_keep", "int"],
    ),
    "root without opt-in": ({"tmux_service_user": "root"}, ["tmux_service_user", "tmux_service_allow_root: true"]),
}


def run_with(extra_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "--inventory",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--extra-vars",
            json.dumps({"target": "all", **extra_vars}),
            str(PLAYBOOK),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "true"},
    )


@pytest.mark.parametrize(("extra_vars", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_input_fails_naming_the_variable(extra_vars: dict[str, Any], expected: list[str]) -> None:
    result = run_with(extra_vars)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    for text in expected:
        assert text in output
    recaps = re.findall(r"changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output)
    assert len(recaps) == 2
    assert recaps == [("0", "1"), ("0", "1")]
