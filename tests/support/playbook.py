"""Run ansible-playbook (or another Ansible command) from a test: one way, for every suite.

    from tests.support.playbook import run_playbook

    run = run_playbook("playbooks/provision.yml", extra_vars={...}, isolated=True)
    assert run.rc == 0, run.output[-3000:]
    assert run.changed("localhost") == 0

Used by the controller-side suites (tests/), the Molecule verifiers (molecule/*/tests, which
import it through pytest's ``pythonpath``) and the benchmarks (bench/). What every run gets:

- this checkout's Ansible: the command beside the running Python (the project's virtualenv),
  else in ``.venv/bin``, else on PATH; that directory also leads PATH, so what the playbook
  starts (``python -m ...``, a ProxyCommand) finds the same tools;
- an ansible.cfg: the one the caller's environment names (Molecule's, in a verifier), else the
  repository's; ``isolated=True`` drops every ``ANSIBLE_*`` and ``MOLECULE_*`` setting first,
  so the run is what a user's clean shell would do with the repository's ansible.cfg;
- no colour, so the output can be searched;
- extra variables as JSON in a 0600 file that lives only as long as the run, never on the
  command line, where any local user reads them in ``ps``.

A run never raises on failure: the caller asserts on ``rc`` and the output. The benchmarks,
which run and time the process themselves, take its command line (``playbook_command``) and
its environment (``environment``) from here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REPO_CONFIG = REPO / "ansible.cfg"
NO_COLOUR = {"ANSIBLE_NOCOLOR": "true", "ANSIBLE_FORCE_COLOR": "false"}
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)(?:\s+skipped=(?P<skipped>\d+))?(?:\s+rescued=(?P<rescued>\d+))?"
    r"(?:\s+ignored=(?P<ignored>\d+))?",
    re.MULTILINE,
)

Paths = str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class Run:
    """One finished run: exit code, what it printed, how long it took."""

    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP: {host: {"ok": n, "changed": n, "unreachable": n, "failed": n, ...}}."""
        return {
            found["host"]: {key: int(value) for key, value in found.groupdict().items() if key != "host" and value}
            for found in RECAP.finditer(self.stdout)
        }

    def changed(self, host: str = "localhost") -> int:
        """The changed count of HOST in the PLAY RECAP (an AssertionError when the host has no recap line)."""
        recap = self.recap()
        assert host in recap, f"no recap line for {host} in:\n{self.output[-3000:]}"
        return recap[host]["changed"]


def executable(name: str) -> str:
    """This checkout's copy of an Ansible command: beside the running Python, else in .venv, else on PATH."""
    if os.sep in name:
        return name
    for directory in (Path(sys.executable).parent, REPO / ".venv" / "bin"):
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name) or name


def environment(env: Mapping[str, str | None] | None = None, *, isolated: bool = False) -> dict[str, str]:
    """The environment of a run: see the module's docstring. ENV is applied last; None unsets a variable."""
    inherited = dict(os.environ)
    if isolated:
        inherited = {k: v for k, v in inherited.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    tools = str(Path(executable("ansible-playbook")).parent)
    merged: dict[str, str | None] = {
        "ANSIBLE_CONFIG": str(REPO_CONFIG),
        **inherited,
        **NO_COLOUR,
        "PATH": f"{tools}:{inherited.get('PATH', os.defpath)}",
        **(env or {}),
    }
    return {key: value for key, value in merged.items() if value is not None}


def run_command(
    command: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    isolated: bool = False,
    cwd: str | Path = REPO,
    timeout: float | None = None,
) -> Run:
    """Run COMMAND from CWD: its first word is an Ansible command's path, or its name (see executable())."""
    started = time.monotonic()
    done = subprocess.run(
        [executable(command[0]), *command[1:]],
        cwd=cwd,
        env=environment(env, isolated=isolated),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@contextmanager
def playbook_command(
    playbook: str | Path,
    *,
    inventory: Paths | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    options: Sequence[str] = (),
    check: bool = False,
) -> Iterator[list[str]]:
    """The ansible-playbook command line, good inside the block: EXTRA_VARS are in a file that lives as long.

    The file is JSON, 0600, in a 0700 directory of its own.
    """
    inventories = [] if inventory is None else [inventory] if isinstance(inventory, str | Path) else list(inventory)
    with tempfile.TemporaryDirectory(prefix="sod-playbook-") as private:
        variables = []
        if extra_vars:
            path = Path(private) / "extra_vars.json"
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                json.dump(dict(extra_vars), handle)
            variables = ["-e", f"@{path}"]
        yield [
            executable("ansible-playbook"),
            *[word for source in inventories for word in ("-i", str(source))],
            *variables,
            *(["--check"] if check else []),
            *options,
            str(playbook),
        ]


def run_playbook(
    playbook: str | Path,
    *,
    inventory: Paths | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str | None] | None = None,
    options: Sequence[str] = (),
    check: bool = False,
    isolated: bool = False,
    cwd: str | Path = REPO,
    timeout: float | None = None,
) -> Run:
    """Run PLAYBOOK (a path, relative to CWD, or a collection playbook's name) and keep what it printed.

    INVENTORY: one source or several; EXTRA_VARS: passed through a private file; ENV: on top
    of the environment (None unsets); OPTIONS: more ansible-playbook arguments (-v, --diff,
    --limit ...); CHECK: --check; ISOLATED: without the caller's Ansible and Molecule settings.
    """
    with playbook_command(
        playbook, inventory=inventory, extra_vars=extra_vars, options=options, check=check
    ) as command:
        return run_command(command, env=env, isolated=isolated, cwd=cwd, timeout=timeout)
