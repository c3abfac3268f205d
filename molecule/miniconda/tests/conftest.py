"""Shared fixtures: the stand-in HTTP server, and one parallel run of the role for every test case.

Each case is a host alias of a target container (``<target>--<case>``) carrying the case's
variables, so one ansible-playbook run applies all of them at once; each case is judged on its
own host's result (failed or not, changed count, messages).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra

from tests.support.playbook import run_playbook

CASE_PLAYBOOK = Path(__file__).resolve().parent.parent / "case.yml"
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
STANDIN = EPHEMERAL / "standin" / "Miniconda3-standin.sh"
PREFIX = "/home/streamlit/miniconda3"
INSTALLER_PATH = "/Miniconda3-standin.sh"
SERVER = "sod-miniconda-http"
TARGET_NAMES = ["sod-miniconda-debian12", "sod-miniconda-debian13"]
# docker exec is much faster than the ansible backend for the many small probes here.
TARGETS = [f"docker://{name}" for name in TARGET_NAMES]

# The failure cases install system-wide into their own prefixes, away from the converged one.
SYSTEM = {"miniconda_install_scope": "system", "miniconda_path_method": "none"}
NO_ENV = {"miniconda_env_name": "", "miniconda_env_python_version": ""}
WRONG_SUM = "sha256:" + "0" * 64
# Its own download directory (root's alone, as the role requires), so it never meets the
# interrupted case's installer file.
WRONG_SUM_INSTALLER = "/var/lib/sod-wrong-checksum/Miniconda3-installer-streamlit-system.sh"
INTERRUPTED = "/opt/case-interrupted"
PAUSE_FILE = "/run/miniconda-standin/pause"

BAD_INPUTS: dict[str, tuple[dict[str, object], str]] = {
    "unknown flavor": ({"miniconda_flavor": "anaconda"}, "miniconda_flavor"),
    "relative prefix": ({"miniconda_prefix": "opt/conda"}, "miniconda_prefix must be empty"),
    "checksum not sha256": ({"miniconda_installer_checksum": "md5:1234"}, "miniconda_installer_checksum must be"),
    "unsupported architecture": (
        {"miniconda_architecture": "s390x"},
        'miniconda_architecture must be empty (the host\'s) or one of x86_64, aarch64; got "s390x"',
    ),
    "missing installer src": (
        {"miniconda_installer_src": "/nonexistent/Miniconda3.sh"},
        'miniconda_installer_src "/nonexistent/Miniconda3.sh" is not a file on the controller',
    ),
    "python env without terms of service": ({"miniconda_accept_tos": False}, "Set miniconda_accept_tos: true"),
}


def bad_input_case(name: str) -> str:
    return "bad-" + name.replace(" ", "-")


def bad_input_prefix(name: str) -> str:
    return "/opt/case-" + bad_input_case(name)


CASES: dict[str, dict[str, object]] = {
    # The converged install, applied once more with the scenario's variables.
    "rerun": {},
    "wrong-checksum": {
        **SYSTEM,
        **NO_ENV,
        "miniconda_prefix": "/opt/case-wrong-checksum",
        "miniconda_download_dir": str(Path(WRONG_SUM_INSTALLER).parent),
        "miniconda_installer_url": "http://sod-miniconda-http:8000/Miniconda3-standin.sh?case=wrong-checksum",
        "miniconda_installer_checksum": WRONG_SUM,
    },
    # Copied from the controller (miniconda_installer_src), so it adds no download to the server's log.
    "interrupted": {**SYSTEM, **NO_ENV, "miniconda_installer_src": str(STANDIN), "miniconda_prefix": INTERRUPTED},
    **{
        bad_input_case(name): {**SYSTEM, "miniconda_prefix": bad_input_prefix(name), **bad_vars}
        for name, (bad_vars, _) in BAD_INPUTS.items()
    },
}


@dataclass(frozen=True)
class Batch:
    """The parsed JSON of the one run (ansible.posix.json callback), and what the killed installs left."""

    run: dict[str, Any]
    half_done: dict[str, bool]

    def results(self, target: str, case: str) -> list[dict[str, Any]]:
        alias = f"{target}--{case}"
        return [task["hosts"][alias] for play in self.run["plays"] for task in play["tasks"] if alias in task["hosts"]]

    def stats(self, target: str, case: str) -> dict[str, int]:
        return self.run["stats"][f"{target}--{case}"]

    def failed(self, target: str, case: str) -> bool:
        stats = self.stats(target, case)
        return stats["failures"] > 0 or stats["unreachable"] > 0

    def failure_message(self, target: str, case: str) -> str:
        failed = [r for r in self.results(target, case) if r.get("failed")]
        # A looped assert fails with "One or more items failed": the items hold the messages.
        items = [i for r in failed for i in r.get("results", []) if isinstance(i, dict) and i.get("failed")]
        return " ".join(str(r.get("msg", "")) for r in failed + items)


def inventory() -> str:
    return os.environ.get("MOLECULE_INVENTORY_FILE") or str(EPHEMERAL / "inventory")


def write_case_inventory() -> Path:
    """Host aliases `<target>--<case>` in the scenario's group (its group_vars apply) and in `cases`."""
    aliases = {
        f"{target}--{case}": {"ansible_connection": "community.docker.docker", "ansible_host": target, **case_vars}
        for target in TARGET_NAMES
        for case, case_vars in CASES.items()
    }
    path = EPHEMERAL / "case_inventory.json"
    path.write_text(json.dumps({"cases": {"hosts": aliases}, "miniconda_targets": {"hosts": dict.fromkeys(aliases)}}))
    return path


def interrupt_installs() -> dict[str, bool]:
    """Start the installer on both targets with its pause hook, kill it half-way, report what it left.

    A prefix the killed install left is half-done when it has the unpacked payload but not the
    history file a finished install writes last.
    """
    for name in TARGET_NAMES:
        target = testinfra.get_host(f"docker://{name}")
        target.run(f"rm -rf {INTERRUPTED}; mkdir -p {Path(PAUSE_FILE).parent} && : > {PAUSE_FILE}")
        subprocess.run(["docker", "cp", str(STANDIN), f"{name}:/var/tmp/interrupted.sh"], check=True)
        command = ["bash", "/var/tmp/interrupted.sh", "-b", "-p", INTERRUPTED]
        subprocess.run(["docker", "exec", "--detach", name, *command], check=True)
    half_done = {}
    for name in TARGET_NAMES:
        target = testinfra.get_host(f"docker://{name}")
        pid = wait_for_pause(target)
        target.run(f"pkill -KILL -P {pid}; kill -KILL {pid}; rm -f {PAUSE_FILE} /var/tmp/interrupted.sh")
        half_done[name] = (
            target.file(f"{INTERRUPTED}/pkgs").is_directory
            and not target.file(f"{INTERRUPTED}/conda-meta/history").exists
        )
    return half_done


def wait_for_pause(target: testinfra.host.Host) -> int:
    for _ in range(240):
        pid = target.run(f"cat {PAUSE_FILE}").stdout.strip()
        if pid:
            return int(pid)
        time.sleep(0.5)
    raise AssertionError(f"the installer on {target.backend.name} never reached its half-way pause")


@pytest.fixture(scope="session")
def batch() -> Batch:
    """Interrupt an install on each target, then apply every case in one run."""
    half_done = interrupt_installs()
    result = run_playbook(
        CASE_PLAYBOOK,
        inventory=[inventory(), write_case_inventory()],
        options=["--forks", str(len(CASES) * len(TARGET_NAMES))],
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "true"},
        timeout=600,
    )
    try:
        run = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(f"the case run printed no JSON:\n{result.stdout}\n{result.stderr}") from error
    return Batch(run=run, half_done=half_done)


@pytest.fixture
def hostname(host: testinfra.host.Host) -> str:
    return host.backend.name


@pytest.fixture
def server() -> testinfra.host.Host:
    return testinfra.get_host(f"docker://{SERVER}")


@pytest.fixture
def host_ip(host: testinfra.host.Host) -> str:
    return host.check_output("hostname -i").split()[0]
