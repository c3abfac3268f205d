"""tmux_service_ready_pattern: a new environment is handed over, never restarted.

Runs handover.yml (a unit whose command prints "release N ready") with new releases
and checks that the unit itself never stopped, that the new command replaced the old
one, and that a new command that cannot start leaves the old one running.

The runs make one story, each step a fixture that depends on the one before and keeps
what the hosts looked like right after it: release 1, handed over to 2, 2 again, a
reload, releases that do not get ready, release 3 and its supervision, a stop. The
tests read those records, so they hold in any order.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
from conftest import wait_for

from tests.support.playbook import Run, run_playbook

testinfra_hosts: list[str] = []
PLAYBOOK = Path(__file__).resolve().parent.parent / "handover.yml"
HOSTS = ["sod-tmux_service-debian12", "sod-tmux_service-debian13"]
UNIT = "tmux-relay.service"
PENDING = "/run/tmux-service/tmux-relay/handover-pending"
NOT_READY = {"bad": "ended with status 3", "silent": "printed no line matching"}


def deploy(release: str) -> Run:
    return run_playbook(
        PLAYBOOK, inventory=os.environ["MOLECULE_INVENTORY_FILE"], extra_vars={"relay_release": release}
    )


def deployed(release: str) -> str:
    result = deploy(release)
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
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


@dataclass(frozen=True)
class HandedOver:
    """The run that deployed release 2 over release 1, and each host right after it."""

    output: str
    units: list[dict[str, str]]
    releases: list[list[str]]
    windows: list[int]
    panes: list[str]
    logs: list[str]


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
def handed_over(first: list[dict[str, str]], hosts: list[testinfra.host.Host]) -> HandedOver:
    output = deployed("2")
    return HandedOver(
        output=output,
        units=[unit(host) for host in hosts],
        releases=[releases_running(host) for host in hosts],
        windows=[windows(host) for host in hosts],
        panes=[host.check_output("sudo -u relay tmux capture-pane -p -t =relay:") for host in hosts],
        logs=[host.file("/var/log/tmux-service/relay.log").content_string for host in hosts],
    )


@pytest.fixture(scope="module")
def same_again(handed_over: HandedOver, hosts: list[testinfra.host.Host]) -> dict[str, Any]:
    """Release 2 deployed once more: the run's output, and the main PIDs before and after it."""
    before = [unit(host)["MainPID"] for host in hosts]
    output = deployed("2")
    return {"output": output, "before": before, "after": [unit(host)["MainPID"] for host in hosts]}


@pytest.fixture(scope="module")
def reloaded(same_again: dict[str, Any], hosts: list[testinfra.host.Host]) -> list[dict[str, Any]]:
    """`systemctl reload` with the running environment: its result, and the commands before and after."""
    found = []
    for host in hosts:
        before = host.check_output("pgrep -u relay -x sleep")
        result = host.run(f"systemctl reload {UNIT}")
        after = host.check_output("pgrep -u relay -x sleep")
        found.append({"rc": result.rc, "stderr": result.stderr, "before": before, "after": after})
    return found


@dataclass(frozen=True)
class NotReady:
    """A release whose command does not get ready: the run, each host after it, the retry, release 2 again."""

    run: Run
    before: list[dict[str, str]]
    units: list[dict[str, str]]
    still_2: list[bool]
    windows: list[int]
    journals: list[str]
    pending: list[bool]
    again: Run
    pending_after_2: list[bool]
    releases_after_2: list[list[str]]


def not_ready(release: str, hosts: list[testinfra.host.Host]) -> NotReady:
    before = [unit(host) for host in hosts]
    run = deploy(release)
    after = {
        "units": [unit(host) for host in hosts],
        "still_2": [wait_for(lambda host=host: releases_running(host) == ["2"]) for host in hosts],
        "windows": [windows(host) for host in hosts],
        "journals": [host.check_output(f"journalctl -u {UNIT} --no-pager -n 30") for host in hosts],
        "pending": [host.file(PENDING).exists for host in hosts],
    }
    # The environment file now holds the failed definition: the same inputs again must
    # not pass as converged, they try the handover again.
    again = deploy(release)
    deployed("2")  # the running environment again: nothing to hand over, nothing pending
    return NotReady(
        run=run,
        before=before,
        again=again,
        pending_after_2=[host.file(PENDING).exists for host in hosts],
        releases_after_2=[releases_running(host) for host in hosts],
        **after,
    )


@pytest.fixture(scope="module")
def refused(reloaded: list[dict[str, Any]], hosts: list[testinfra.host.Host]) -> dict[str, NotReady]:
    return {release: not_ready(release, hosts) for release in NOT_READY}


@pytest.fixture(scope="module")
def supervised(refused: dict[str, NotReady], hosts: list[testinfra.host.Host]) -> dict[str, list[Any]]:
    """Release 3 handed over after the failed attempts, then its command killed on each host."""
    before = [unit(host) for host in hosts]
    deployed("3")
    time.sleep(3)
    found: dict[str, list[Any]] = {"before": before, "releases": [], "units": [], "restarted": [], "back": []}
    for host in hosts:
        found["releases"].append(releases_running(host))
        found["units"].append(unit(host))
        restarts = int(unit(host)["NRestarts"])
        host.run("pkill -KILL -u relay -x sleep")
        found["restarted"].append(
            wait_for(lambda host=host, restarts=restarts: int(unit(host)["NRestarts"]) == restarts + 1, timeout=20)
        )
        found["back"].append(wait_for(lambda host=host: releases_running(host) == ["3"], timeout=20))
    return found


@pytest.fixture(scope="module")
def stopped(supervised: dict[str, list[Any]], hosts: list[testinfra.host.Host]) -> list[dict[str, Any]]:
    """The unit stopped after the handovers (what ran then), and started again."""
    found = []
    for host in hosts:
        host.check_output(f"systemctl stop {UNIT}")
        record: dict[str, Any] = {"releases": releases_running(host)}
        record["session"] = host.run("sudo -u relay tmux has-session -t =relay").rc
        host.check_output(f"systemctl start {UNIT}")
        record["back"] = wait_for(lambda host=host: releases_running(host) == ["3"])
        found.append(record)
    return found


def test_a_new_release_is_handed_over_not_restarted(first: list[dict[str, str]], handed_over: HandedOver) -> None:
    assert re.search(
        r"RUNNING HANDLER \[streamlit_ops\.deploy\.tmux_service : Hand over tmux service\]", handed_over.output
    )
    assert "RUNNING HANDLER [streamlit_ops.deploy.tmux_service : Restart tmux service]" not in handed_over.output
    for after, before in zip(handed_over.units, first, strict=True):
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


def test_the_new_command_replaced_the_old_one(handed_over: HandedOver) -> None:
    assert handed_over.releases == [["2"]] * len(HOSTS)
    assert handed_over.windows == [1] * len(HOSTS)
    for pane, log in zip(handed_over.panes, handed_over.logs, strict=True):
        assert "release 2 ready" in pane
        assert "release 2 ready" in log


def test_the_same_release_again_changes_nothing(same_again: dict[str, Any]) -> None:
    assert re.search(r"changed=0\b", same_again["output"])
    assert same_again["after"] == same_again["before"]


def test_reloading_with_the_running_environment_does_nothing(reloaded: list[dict[str, Any]]) -> None:
    for found in reloaded:
        assert found["rc"] == 0, found["stderr"]
        assert found["after"] == found["before"]


@pytest.mark.parametrize(("release", "reason"), NOT_READY.items())
def test_a_new_command_that_does_not_get_ready_leaves_the_old_one_running(
    refused: dict[str, NotReady], release: str, reason: str
) -> None:
    found = refused[release]
    assert found.run.rc != 0
    assert "Hand over tmux service" in found.run.stdout
    for after, earlier in zip(found.units, found.before, strict=True):
        assert after["MainPID"] == earlier["MainPID"]
        assert after["ActiveState"] == "active"
    assert found.still_2 == [True] * len(HOSTS)
    assert found.windows == [1] * len(HOSTS)
    for journal in found.journals:
        assert reason in journal
    assert found.pending == [True] * len(HOSTS)
    # The same inputs again try the handover again.
    assert found.again.rc != 0
    assert "Hand over tmux service" in found.again.stdout
    assert found.pending_after_2 == [False] * len(HOSTS)
    assert found.releases_after_2 == [["2"]] * len(HOSTS)


def test_the_handed_over_command_is_supervised(supervised: dict[str, list[Any]]) -> None:
    # After the failed attempts: a good handover must not be mistaken for the end of the
    # command (the unit keeps its main process and restart count).
    assert supervised["releases"] == [["3"]] * len(HOSTS)
    for after, earlier in zip(supervised["units"], supervised["before"], strict=True):
        assert after["MainPID"] == earlier["MainPID"]
        assert after["NRestarts"] == earlier["NRestarts"]
    assert supervised["restarted"] == [True] * len(HOSTS)
    assert supervised["back"] == [True] * len(HOSTS)


def test_stopping_after_a_handover_ends_the_new_command(stopped: list[dict[str, Any]]) -> None:
    for found in stopped:
        assert found["releases"] == []
        assert found["session"] != 0
        assert found["back"]
