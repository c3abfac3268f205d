"""Runs that must fail cleanly, and an interrupted install that the next run repairs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from functools import cache
from pathlib import Path

import pytest
import testinfra
from conftest import CASE_PLAYBOOK, TARGETS, changed_count, failure_message, inventory, run_case, run_role

# docker exec is much faster than the ansible backend for the many small probes here.
testinfra_hosts = TARGETS

# Each case installs system-wide into its own prefix, away from the converged one.
SYSTEM = {"miniconda_install_scope": "system", "miniconda_path_method": "none"}
NO_ENV = {"miniconda_env_name": "", "miniconda_env_python_version": ""}
SYSTEM_INSTALLER = "/var/tmp/Miniconda3-installer-streamlit-system.sh"
WRONG_SUM = "sha256:" + "0" * 64
STANDIN = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "standin" / "Miniconda3-standin.sh"
# Copied from the controller (miniconda_installer_src), so these runs add no download to the server's log.
FROM_CONTROLLER = {"miniconda_installer_src": str(STANDIN)}

BAD_INPUTS = {
    "unknown flavor": ({"miniconda_flavor": "anaconda"}, "miniconda_flavor"),
    "relative prefix": ({"miniconda_prefix": "opt/conda"}, "miniconda_prefix must be an absolute path"),
    "checksum not sha256": ({"miniconda_installer_checksum": "md5:1234"}, "miniconda_installer_checksum must be"),
    "unsupported architecture": (
        {"miniconda_architecture": "s390x"},
        "Architecture 's390x' (miniconda_architecture, or the target's architecture fact when empty) "
        "is not supported: supported are x86_64, aarch64",
    ),
    "missing installer src": (
        {"miniconda_installer_src": "/nonexistent/Miniconda3.sh"},
        "miniconda_installer_src '/nonexistent/Miniconda3.sh' is not a file on the controller",
    ),
    "python env without terms of service": ({"miniconda_accept_tos": False}, "Set miniconda_accept_tos: true"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_fails_before_any_change_naming_the_variable(
    host: testinfra.host.Host, hostname: str, case: str
) -> None:
    bad_vars, message = BAD_INPUTS[case]
    prefix = "/opt/case-bad-input"
    result = run_case(json.dumps({**SYSTEM, "miniconda_prefix": prefix, **bad_vars}))
    assert result.returncode != 0
    assert message in " ".join(failure_message(result, hostname).split())
    assert changed_count(result, hostname) == 0
    assert not host.file(prefix).exists


def test_a_wrong_checksum_fails_showing_both_sums_and_leaves_nothing(host: testinfra.host.Host, hostname: str) -> None:
    prefix = "/opt/case-wrong-checksum"
    url = "http://sod-miniconda-http:8000/Miniconda3-standin.sh?case=wrong-checksum"
    result = run_case(
        json.dumps(
            {
                **SYSTEM,
                **NO_ENV,
                "miniconda_prefix": prefix,
                "miniconda_installer_url": url,
                "miniconda_installer_checksum": WRONG_SUM,
            }
        )
    )
    output = failure_message(result, hostname)
    assert result.returncode != 0
    assert f"did not match {WRONG_SUM.removeprefix('sha256:')}; it was {served_sum()}" in output
    assert not host.file(prefix).exists
    assert not host.file(SYSTEM_INSTALLER).exists


def served_sum() -> str:
    return STANDIN.with_name(STANDIN.name + ".sha256").read_text().split()[0]


INTERRUPTED = "/opt/case-interrupted"


@cache
def interrupt_then_rerun() -> tuple[dict[str, bool], subprocess.CompletedProcess[str]]:
    """Stop an install half-way on both targets (stand-in pause hook), kill it, then run the role again.

    Returns, per target, whether the killed install had left a prefix without the finished-install
    marker, and the repair run.
    """
    targets = [testinfra.get_host(spec) for spec in TARGETS]
    for target in targets:
        target.run(f"rm -rf {INTERRUPTED}; mkdir -p /run/miniconda-standin && : > /run/miniconda-standin/pause")
    case = {**SYSTEM, **NO_ENV, **FROM_CONTROLLER, "miniconda_prefix": INTERRUPTED}
    playbook = subprocess.Popen(
        ["ansible-playbook", "-i", inventory(), str(CASE_PLAYBOOK), "-e", json.dumps(case)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        pids = {target.backend.name: wait_for_pause(target) for target in targets}
    finally:
        os.killpg(playbook.pid, signal.SIGKILL)
        playbook.wait()
    half_done = {}
    for target in targets:
        pid = pids[target.backend.name]
        target.run(f"pkill -KILL -P {pid}; kill -KILL {pid}; rm -f /run/miniconda-standin/pause")
        half_done[target.backend.name] = (
            target.file(f"{INTERRUPTED}/pkgs").is_directory
            and not target.file(f"{INTERRUPTED}/conda-meta/history").exists
        )
    return half_done, run_role(case)


def wait_for_pause(target: testinfra.host.Host) -> int:
    for _ in range(240):
        pid = target.run("cat /run/miniconda-standin/pause").stdout.strip()
        if pid:
            return int(pid)
        time.sleep(0.5)
    raise AssertionError(f"the installer on {target.backend.name} never reached its half-way pause")


def test_a_killed_install_leaves_a_prefix_without_the_finished_marker(hostname: str) -> None:
    half_done, _ = interrupt_then_rerun()
    assert half_done[hostname]


def test_an_interrupted_install_is_repaired_by_the_next_run(host: testinfra.host.Host) -> None:
    _, repair = interrupt_then_rerun()
    assert repair.returncode == 0, repair.stdout
    assert host.file(f"{INTERRUPTED}/conda-meta/history").is_file
    assert host.check_output(f"{INTERRUPTED}/bin/conda --version") == "conda 25.7.0"
    assert host.run(f"{INTERRUPTED}/bin/python -c 'import ssl, sqlite3'").rc == 0
