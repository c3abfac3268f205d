"""tmux_service_ready_pattern: a new environment is handed over, never restarted.

Runs handover.yml (a unit whose command prints "release N ready") with new releases
and checks that the unit itself never stopped, that the new command replaced the old
one, and that a new command that cannot start leaves the old one running.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testinfra
from conftest import wait_for

testinfra_hosts: list[str] = []
PLAYBOOK = Path(__file__).resolve().parent.parent / "handover.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
HOSTS = ["sod-tmux_service-debian12", "sod-tmux_service-debian13"]
UNIT = "tmux-relay.service"
PENDING = "/run/tmux-service/tmux-relay/handover-pending"


def deploy(release: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            *("--inventory", os.environ["MOLECULE_INVENTORY_FILE"]),
            *("--extra-vars", json.dumps({"relay_release": release})),
            str(PLAYBOOK),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "true"},
    )


def deployed(release: str) -> str:
    result = deploy(release)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def unit(host: testinfra.host.Host) -> dict[str, str]:
    output = host.check_output(f"systemctl show -p MainPID,NRestarts,ActiveState,ActiveEnterTimestampMonotonic {UNIT}")
    return dict(line.split("=", 1) for line in output.splitlines())


def releases_running(host: testinfra.host.Host) -> list[str]:
    """RELEASE of every command the unit runs (its sleep processes), sorted."""
    pids = host.run("pgrep -u relay -x sleep").stdout.split()
    found = []
    for pid in pids:
        environ = host.run(f"tr '\\0' '\\n' < /proc/{pid}/environ").stdout.splitlines()
        found += [line.split("=", 1)[1] for line in environ if line.startswith("RELEASE=")]
    return sorted(found)


def windows(host: testinfra.host.Host) -> int:
    return len(host.check_output("sudo -u relay tmux list-windows -t =relay").splitlines())


@pytest.fixture(scope="module")
def hosts() -> list[testinfra.host.Host]:
    return [testinfra.get_host(f"docker://{name}") for name in HOSTS]


@pytest.fixture(scope="module")
def first(hosts: list[testinfra.host.Host]) -> list[dict[str, str]]:
    """Release 1 running, as the unit looked then."""
    deployed("1")
    for host in hosts:
        assert wait_for(lambda host=host: releases_running(host) == ["1"]), releases_running(host)
    return [unit(host) for host in hosts]


@pytest.fixture(scope="module")
def handed_over(first: list[dict[str, str]], hosts: list[testinfra.host.Host]) -> str:
    """The output of the run that deployed release 2 over release 1."""
    return deployed("2")


def test_a_new_release_is_handed_over_not_restarted(
    first: list[dict[str, str]], handed_over: str, hosts: list[testinfra.host.Host]
) -> None:
    assert re.search(r"RUNNING HANDLER \[streamlit_ops\.deploy\.tmux_service : Hand over tmux service\]", handed_over)
    assert "RUNNING HANDLER [streamlit_ops.deploy.tmux_service : Restart tmux service]" not in handed_over
    for host, before in zip(hosts, first, strict=True):
        after = unit(host)
        assert after["ActiveState"] == "active"
        # The same activation of the same main process: the unit never stopped.
        assert after["MainPID"] == before["MainPID"]
        assert after["ActiveEnterTimestampMonotonic"] == before["ActiveEnterTimestampMonotonic"]
        assert after["NRestarts"] == before["NRestarts"]


def test_a_stop_timeout_given_as_a_string_sets_the_units_timeout(
    first: list[dict[str, str]], hosts: list[testinfra.host.Host]
) -> None:
    # handover.yml passes tmux_service_stop_timeout as "3", as -e would: 3 s for Ctrl-c plus 15.
    for host in hosts:
        assert host.check_output(f"systemctl show -p TimeoutStopUSec --value {UNIT}") == "18s"


def test_the_new_command_replaced_the_old_one(handed_over: str, hosts: list[testinfra.host.Host]) -> None:
    for host in hosts:
        assert releases_running(host) == ["2"]
        assert windows(host) == 1
        assert "release 2 ready" in host.check_output("sudo -u relay tmux capture-pane -p -t =relay:")
        assert "release 2 ready" in host.file("/var/log/tmux-service/relay.log").content_string


def test_the_same_release_again_changes_nothing(handed_over: str, hosts: list[testinfra.host.Host]) -> None:
    before = [unit(host) for host in hosts]
    output = deployed("2")
    assert re.search(r"changed=0\b", output)
    assert [unit(host)["MainPID"] for host in hosts] == [b["MainPID"] for b in before]


def test_reloading_with_the_running_environment_does_nothing(
    handed_over: str, hosts: list[testinfra.host.Host]
) -> None:
    for host in hosts:
        pids = host.check_output("pgrep -u relay -x sleep")
        result = host.run(f"systemctl reload {UNIT}")
        assert result.rc == 0, result.stderr
        assert host.check_output("pgrep -u relay -x sleep") == pids


@pytest.mark.parametrize(
    ("release", "reason"),
    [("bad", "ended with status 3"), ("silent", "printed no line matching")],
)
def test_a_new_command_that_does_not_get_ready_leaves_the_old_one_running(
    handed_over: str, hosts: list[testinfra.host.Host], release: str, reason: str
) -> None:
    before = [unit(host) for host in hosts]
    result = deploy(release)
    assert result.returncode != 0
    assert "Hand over tmux service" in result.stdout
    for host, earlier in zip(hosts, before, strict=True):
        assert unit(host)["MainPID"] == earlier["MainPID"]
        assert unit(host)["ActiveState"] == "active"
        assert wait_for(lambda host=host: releases_running(host) == ["2"]), releases_running(host)
        assert windows(host) == 1
        assert reason in host.check_output(f"journalctl -u {UNIT} --no-pager -n 30")
        assert host.file(PENDING).exists
    # The environment file now holds the failed definition: the same inputs again must
    # not pass as converged, they try the handover again.
    again = deploy(release)
    assert again.returncode != 0
    assert "Hand over tmux service" in again.stdout
    deployed("2")  # the running environment again: nothing to hand over, nothing pending
    for host in hosts:
        assert not host.file(PENDING).exists
        assert releases_running(host) == ["2"]


def test_the_handed_over_command_is_supervised(handed_over: str, hosts: list[testinfra.host.Host]) -> None:
    # After the failed attempts above: a good handover must not be mistaken for the end
    # of the command (the unit keeps its main process and restart count).
    before = [unit(host) for host in hosts]
    deployed("3")
    time.sleep(3)
    for host, earlier in zip(hosts, before, strict=True):
        assert releases_running(host) == ["3"]
        assert unit(host)["MainPID"] == earlier["MainPID"]
        assert unit(host)["NRestarts"] == earlier["NRestarts"]
        restarts = int(unit(host)["NRestarts"])
        host.run("pkill -KILL -u relay -x sleep")
        assert wait_for(lambda host=host, restarts=restarts: int(unit(host)["NRestarts"]) == restarts + 1, timeout=20)
        assert wait_for(lambda host=host: releases_running(host) == ["3"], timeout=20)


def test_stopping_after_a_handover_ends_the_new_command(handed_over: str, hosts: list[testinfra.host.Host]) -> None:
    for host in hosts:
        host.check_output(f"systemctl stop {UNIT}")
        assert releases_running(host) == []
        assert host.run("sudo -u relay tmux has-session -t =relay").rc != 0
        host.check_output(f"systemctl start {UNIT}")
        assert wait_for(lambda host=host: releases_running(host) == ["3"])
