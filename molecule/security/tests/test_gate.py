"""The gate (streamlit_ops.deploy.converged) around configure.yml's roles.

A host as the last run with the same inputs left it is done after one read-only probe (and
says again where the app is served); anything that drifted (a file a role manages, a stopped
unit) takes the full path, which repairs it, and the next run is a no-op again. Each fixture
arranges its own drift, then runs configure.yml as converge.yml does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import testinfra
from conftest import APP_USER, PREFIX, SCENARIO

from tests.support.playbook import run_playbook

RECORD = "/var/lib/streamlit-ops/converged/configure.json"
HEALTH = "curl -fsS --max-time 5 http://127.0.0.1:8501/_stcore/health"


def configure(*options: str) -> str:
    """converge.yml (playbooks/configure.yml on the app host), its output."""
    done = run_playbook(
        SCENARIO / "converge.yml",
        inventory=os.environ["MOLECULE_INVENTORY_FILE"],
        options=options,
        env={"ANSIBLE_CONFIG": str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.cfg")},
    )
    assert done.rc == 0, done.output[-5000:]
    return done.stdout


def changed(output: str) -> int:
    recap = re.search(r"sod-security-debian12\s*:\s*ok=\d+\s+changed=(\d+)", output)
    assert recap is not None, output[-2000:]
    return int(recap.group(1))


@pytest.fixture(scope="module")
def noop(app: testinfra.host.Host) -> str:
    assert app.check_output(HEALTH) == "ok"
    configure()  # whatever an earlier test left: this run records the host as it is
    return configure("-vvv")


def test_a_converged_host_is_done_after_one_probe(noop: str) -> None:
    assert changed(noop) == 0
    assert "Install Miniconda" not in noop
    assert "Deploy the app" not in noop


def test_the_probe_runs_on_the_hosts_python_not_as_a_module(noop: str) -> None:
    assert "AnsiballZ_converged" not in noop


def test_the_gate_still_says_where_the_app_is_served(noop: str) -> None:
    assert "App URL https://" in noop  # the front door's
    assert "tmux attach -t streamlit-hello" in noop  # the app's


def test_the_record_is_roots_alone(noop: str, app: testinfra.host.Host) -> None:
    record = app.file(RECORD)
    assert (record.user, record.mode) == ("root", 0o600)


@pytest.fixture(scope="module")
def condarc_repaired(noop: str, app: testinfra.host.Host) -> tuple[str, str]:
    app.check_output("sudo -u %s sh -c 'echo \"channels: [evil]\" >> %s/.condarc'", APP_USER, PREFIX)
    return configure(), configure()


def test_an_edited_file_of_a_role_takes_the_full_path_and_is_restored(
    condarc_repaired: tuple[str, str], app: testinfra.host.Host
) -> None:
    repair, _ = condarc_repaired
    assert "Install Miniconda" in repair
    assert changed(repair) > 0
    assert "evil" not in app.file(f"{PREFIX}/.condarc").content_string


def test_after_the_repair_the_gate_applies_again(condarc_repaired: tuple[str, str]) -> None:
    _, again = condarc_repaired
    assert changed(again) == 0
    assert "Install Miniconda" not in again


@pytest.fixture(scope="module")
def restarted(condarc_repaired: tuple[str, str], app: testinfra.host.Host) -> str:
    app.check_output("systemctl stop streamlit-hello.service")
    return configure()


def test_a_stopped_service_takes_the_full_path_and_serves_again(restarted: str, app: testinfra.host.Host) -> None:
    assert "Deploy the app" in restarted
    assert app.service("streamlit-hello").is_running
    assert app.check_output(HEALTH) == "ok"
