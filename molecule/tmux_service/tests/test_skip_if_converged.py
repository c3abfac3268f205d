"""tmux_service_skip_if_converged: one probe instead of the full path, unless the unit drifted.

The scenario's own runs take the full path (the variable is false in molecule.yml) and record
what they left; these runs of converge.yml (with side_effect.yml's release "2") turn the
shortcut on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra
from conftest import WEB_PORT, WEB_UNIT, answers, wait_for

testinfra_hosts: list[str] = []
CONVERGE = Path(__file__).resolve().parent.parent / "converge.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
HOSTS = ["sod-tmux_service-debian12", "sod-tmux_service-debian13"]
FULL_PATH_TASK = "Look up the service user"


def converge() -> str:
    result = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-v",
            *("--inventory", os.environ["MOLECULE_INVENTORY_FILE"]),
            *("--extra-vars", json.dumps({"tmux_service_skip_if_converged": True, "scenario_release": "2"})),
            str(CONVERGE),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "true"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def changed(output: str, name: str) -> int:
    match = re.search(rf"^{re.escape(name)}\s+:.*\bchanged=(\d+)", output, re.MULTILINE)
    assert match, f"no recap line for {name}"
    return int(match.group(1))


@pytest.fixture(scope="module")
def hosts() -> list[testinfra.host.Host]:
    return [testinfra.get_host(f"docker://{name}") for name in HOSTS]


@pytest.fixture(scope="module")
def shortcut() -> str:
    converge()  # whatever the earlier tests left, this run repairs and records it
    return converge()


def test_converged_units_are_left_after_one_probe_each(shortcut: str) -> None:
    assert shortcut.count("reason: in sync") == 2 * len(HOSTS)  # two units per host
    assert FULL_PATH_TASK not in shortcut
    assert [changed(shortcut, name) for name in HOSTS] == [0] * len(HOSTS)


@pytest.fixture(scope="module")
def stopped(hosts: list[testinfra.host.Host], shortcut: str) -> str:
    for host in hosts:
        host.run_expect([0], f"systemctl stop {WEB_UNIT}")
    return converge()


def test_a_stopped_unit_takes_the_full_path_and_runs_again(stopped: str, hosts: list[testinfra.host.Host]) -> None:
    assert stopped.count(f"reason: {WEB_UNIT} is inactive (was active)") == len(HOSTS)
    assert stopped.count("reason: in sync") == len(HOSTS)  # the other unit
    assert [changed(stopped, name) for name in HOSTS] == [1] * len(HOSTS)
    assert all(wait_for(lambda host=host: answers(host, WEB_PORT)) for host in hosts)
