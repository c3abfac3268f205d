"""Run ansible-playbook timed, with its changed count and the controller's peak memory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.playbook import REPO, REPO_CONFIG, environment, playbook_command

RECAP = re.compile(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
SAMPLE_INTERVAL = 0.2
# ansible.posix.profile_tasks: the slowest tasks, summed over hosts, at the end of the log.
PROFILE_ENV = {
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
    "PROFILE_TASKS_SUMMARY_ONLY": "true",
    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "6",
}
PROFILE_LINE = re.compile(r"^(\S.*?) -{2,}\s*(\d+\.\d+)s$", re.MULTILINE)


@dataclass(frozen=True)
class RunResult:
    """One ansible-playbook run."""

    seconds: float
    returncode: int
    changed: int
    failed: int
    tree_rss_mb: float  # peak of the summed RSS of ansible-playbook and all its descendants (sampled)
    largest_rss_mb: float  # ru_maxrss: the largest single process of the tree
    log: Path
    cpu_s: float = 0.0  # user + system CPU of ansible-playbook and every process it waited for (workers, ssh)

    def check(self) -> RunResult:
        if self.returncode != 0 or self.failed:
            msg = f"ansible-playbook failed (rc={self.returncode}, failed={self.failed}); see {self.log}"
            raise RuntimeError(msg)
        return self


def ansible_env(overrides: Mapping[str, str | None]) -> dict[str, str]:
    """The environment with the repository's ansible.cfg; an override of None unsets the variable."""
    return environment({"ANSIBLE_CONFIG": str(REPO_CONFIG), "PYTHONUNBUFFERED": "1", **overrides})


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces or brackets: the fields after its closing ")" are fixed.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def tree_rss_kb(root: int) -> int:
    tree = children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss_kb(pid)
        todo.extend(tree.get(pid, []))
    return total


class MemorySampler(threading.Thread):
    """Samples the process tree's summed RSS until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_INTERVAL):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))


def run(
    playbook: str,
    log: Path,
    *,
    inventory: str | Path | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    options: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    timeout: float = 1800.0,
) -> RunResult:
    """Run ansible-playbook PLAYBOOK from the repository root, output to LOG; never raises on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        playbook_command(playbook, inventory=inventory, extra_vars=extra_vars, options=options) as command,
        log.open("w") as out,
    ):
        start = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=ansible_env(env or {}),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler = MemorySampler(process.pid)
        sampler.start()
        timer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        try:
            # wait4, not Popen.wait: it hands back the finished child's resource usage.
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            sampler.done.set()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
    recap = RECAP.findall(log.read_text())
    return RunResult(
        seconds=seconds,
        returncode=process.returncode,
        changed=sum(int(c) for c, _, _ in recap),
        failed=sum(int(u) + int(f) for _, u, f in recap),
        tree_rss_mb=sampler.peak_kb / 1024,
        largest_rss_mb=usage.ru_maxrss / 1024,
        log=log,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


def slowest_tasks(log: Path) -> list[tuple[str, float]]:
    """The profile_tasks summary of a run made with PROFILE_ENV."""
    return [(name, float(seconds)) for name, seconds in PROFILE_LINE.findall(log.read_text())]
