"""Runs that must fail cleanly, and an interrupted install that the next run repairs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
from conftest import CASE_PLAYBOOK, inventory, recap_line, run_case, run_role

testinfra_hosts = ["ansible://miniconda_targets"]

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
    output = " ".join(result.stdout.split())
    assert result.returncode != 0
    assert message in output
    assert "changed=0" in recap_line(result.stdout, hostname)
    assert not host.file(prefix).exists


def test_a_wrong_checksum_fails_showing_both_sums_and_leaves_nothing(host: testinfra.host.Host) -> None:
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
    output = " ".join(result.stdout.split())
    assert result.returncode != 0
    assert f"did not match {WRONG_SUM}; it was sha256:{served_sum()}" in output or (
        f"did not match {WRONG_SUM.removeprefix('sha256:')}; it was {served_sum()}" in output
    )
    assert not host.file(prefix).exists
    assert not host.file(SYSTEM_INSTALLER).exists


def served_sum() -> str:
    return STANDIN.with_name(STANDIN.name + ".sha256").read_text().split()[0]


def start_paused_install(host: testinfra.host.Host, hostname: str, prefix: str) -> int:
    """Start the role with the stand-in's pause hook set; return the installer's PID once it stops half-way."""
    host.run("mkdir -p /run/miniconda-standin && : > /run/miniconda-standin/pause")
    extra = {**SYSTEM, **NO_ENV, **FROM_CONTROLLER, "miniconda_prefix": prefix, "case_hosts": hostname}
    playbook = subprocess.Popen(
        ["ansible-playbook", "-i", inventory(), str(CASE_PLAYBOOK), "-e", json.dumps(extra)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(120):
            pid = host.run("cat /run/miniconda-standin/pause").stdout.strip()
            if pid:
                return int(pid)
            time.sleep(0.5)
        raise AssertionError("the installer never reached its half-way pause")
    finally:
        os.killpg(playbook.pid, signal.SIGKILL)
        playbook.wait()


def test_an_interrupted_install_is_repaired_by_the_next_run(host: testinfra.host.Host, hostname: str) -> None:
    prefix = "/opt/case-interrupted"
    pid = start_paused_install(host, hostname, prefix)
    host.run(f"pkill -KILL -P {pid}; kill -KILL {pid}; rm -f /run/miniconda-standin/pause")
    assert host.file(f"{prefix}/pkgs").is_directory
    assert not host.file(f"{prefix}/conda-meta/history").exists

    result = run_role({**SYSTEM, **NO_ENV, **FROM_CONTROLLER, "miniconda_prefix": prefix}, hosts=hostname)

    assert result.returncode == 0, result.stdout
    assert host.file(f"{prefix}/conda-meta/history").is_file
    assert host.check_output(f"{prefix}/bin/conda --version") == "conda 25.7.0"
    assert host.run(f"{prefix}/bin/python -c 'import ssl, sqlite3'").rc == 0
