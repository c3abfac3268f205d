"""Shared fixtures: run the scenario's playbook against Molecule's inventory, read an app host's state."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra

from tests.support.playbook import Run, run_playbook

SCENARIO = Path(__file__).resolve().parent.parent
APP_HOST = "sod-streamlit_app-debian13"
BASE = "/opt/streamlit/hello"
SECRET = "molecule-s3cret-7f3a9"
HEALTH = "curl -fsS --max-time 5 http://127.0.0.1:8501/_stcore/health"


@dataclass(frozen=True)
class State:
    """An app host at one moment: what current and previous point at, current's marker, the release
    the server runs, what the health endpoint answers and how often the unit has started."""

    current: str
    previous: str
    marker: dict[str, Any]
    served: str
    health: str
    starts: int


@dataclass
class Outcome:
    """How one case of a cases playbook ended: failed or not, and its message (as JSON text)."""

    failed: bool
    msg: str


def _ansible_playbook(
    playbook: str, extra_vars: dict[str, Any], options: list[str], env: dict[str, str] | None = None
) -> Run:
    """Run one of the scenario's playbooks (verbose, with --diff) and capture all output."""
    return run_playbook(
        SCENARIO / playbook,
        inventory=os.environ["MOLECULE_INVENTORY_FILE"],
        extra_vars=extra_vars,
        options=["-v", "--diff", *options],
        env=env,
    )


def converge(extra_vars: dict[str, Any], limit: str = APP_HOST, env: dict[str, str] | None = None) -> Run:
    """Run converge.yml on one host with extra vars (and extra environment variables for Ansible)."""
    return _ansible_playbook("converge.yml", extra_vars, ["--limit", limit], env)


def run_cases(playbook: str, tmp_dir: Path) -> tuple[Run, dict[str, Outcome]]:
    """Run a cases playbook (one play per case) on the app host; return the run and each case's outcome."""
    outcomes_file = tmp_dir / f"{Path(playbook).stem}.json"
    run = _ansible_playbook(playbook, {"sod_case_host": APP_HOST, "sod_outcomes_file": str(outcomes_file)}, [])
    assert run.rc == 0, run.output[-3000:]
    recorded = json.loads(outcomes_file.read_text())
    return run, {case: Outcome(bool(value["failed"]), json.dumps(value["msg"])) for case, value in recorded.items()}


def changed_count(run: Run, host: str = APP_HOST) -> int:
    """The changed= count of a host in the play recap."""
    return run.changed(host)


@pytest.fixture(scope="session")
def playbook() -> Callable[..., Run]:
    """The playbook runner, as a fixture."""
    return converge


@pytest.fixture(scope="session")
def app_host() -> testinfra.host.Host:
    """The host the lifecycle tests deploy to (Debian 13, wheelhouse installs)."""
    return testinfra.get_host(f"ansible://{APP_HOST}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def current_release(host: testinfra.host.Host) -> str:
    """The release the current symlink points at."""
    return host.file(f"{BASE}/current").linked_to


def served_release(host: testinfra.host.Host) -> str:
    """The release the running Streamlit server comes from.

    The unit runs it as RELEASE/venv/bin/python .../streamlit-serve run ...; /proc/<pid>/cwd
    is not readable without CAP_SYS_PTRACE.
    """
    interpreter = host.check_output("pgrep -u streamlit -f '/streamlit-serve run ' -a | head -n1").split()[1]
    return interpreter.removesuffix("/venv/bin/python")


def service_starts(host: testinfra.host.Host) -> int:
    """How many times systemd started the app's unit since the container booted (distinct invocations)."""
    lines = host.check_output(
        "journalctl -u streamlit-hello.service -o json --output-fields=INVOCATION_ID --no-pager"
    ).splitlines()
    return len({json.loads(line).get("INVOCATION_ID") for line in lines} - {None})


def state(host: testinfra.host.Host) -> State:
    """Read what an app host looks like now."""
    current = current_release(host)
    return State(
        current=current,
        previous=host.file(f"{BASE}/previous").linked_to,
        marker=json.loads(host.file(f"{current}/release.json").content_string),
        served=served_release(host),
        health=host.run(HEALTH).stdout.strip(),
        starts=service_starts(host),
    )


@pytest.fixture(scope="session", autouse=True)
def converged() -> dict[str, State]:
    """Each app host as the scenario left it (converge, then the idempotence and check-mode runs).

    Read before any test deploys again, so what a test asserts on it holds whichever test runs first.
    """
    hosts = testinfra.get_hosts([f"ansible://apps?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}"])
    return {host.backend.get_hostname(): state(host) for host in hosts}
