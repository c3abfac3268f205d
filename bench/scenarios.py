"""One measurement each: the raw baseline, a fleet's fresh and no-op converges, an update under polling."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hosts
import playbook
from baseline import run_baseline
from poller import Poller
from workspace import Workspace, write_inventory

CONFIGURE = "playbooks/configure.yml"
POLL_TAIL = 2.0  # keep polling this long after the deploy ends


@dataclass(frozen=True)
class UpdateResult:
    seconds: float
    changed: int
    polls: int
    failed_polls: int
    gap_s: float


@dataclass(frozen=True)
class FleetResult:
    size: int
    fresh: playbook.RunResult
    noop: playbook.RunResult
    noop_target_cpu_s: float | None = None  # CPU the hosts' containers used during the no-op


@dataclass(frozen=True)
class Fleet:
    """Converged hosts kept for further runs (the speed-up variants)."""

    hosts: list[hosts.Host]
    inventory: Path


def load1() -> float:
    return os.getloadavg()[0]


def measure_baseline(work: Workspace, installer_url: str, tag: str) -> tuple[float, Path]:
    """Seconds of the raw script on a fresh container, and its log."""
    (host,) = hosts.start_hosts(f"raw{tag}", 1, work.public_key)
    try:
        log = work.logs / f"baseline-{tag}.log"
        url = f"{installer_url}/Miniconda3-standin.sh"
        return run_baseline(host, url, work.installer_checksum(), work.app(1), log), log
    finally:
        hosts.remove([host])


def converge(
    inventory: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    *,
    extra_vars: Mapping[str, Any] | None = None,
    options: Sequence[str] = (),
) -> playbook.RunResult:
    return playbook.run(CONFIGURE, log, inventory=inventory, extra_vars=extra_vars, options=options, env=env)


def measure_update(work: Workspace, inventory: Path, host: hosts.Host, tag: str) -> UpdateResult:
    """Deploy app version 2 on a host serving version 1 while a client polls it."""
    log = work.logs / f"update-{tag}.log"
    return measure_update_with(
        host, lambda: converge(inventory, log, extra_vars={"streamlit_app_src": str(work.app(2))}).check()
    )


def measure_update_with(
    host: hosts.Host, deploy: Callable[[], playbook.RunResult], *, front_door: bool = True
) -> UpdateResult:
    """Run DEPLOY (a converge that deploys a new app version) while a client polls HOST's app.

    Through the front door (HTTPS) as users reach it, or Streamlit's own port when it is off.
    """
    poller = Poller(host.https_url if front_door else host.url)
    poller.start()
    try:
        result = deploy()
        time.sleep(POLL_TAIL)
    finally:
        poller.stop()
    if result.changed == 0:
        msg = f"the update deployed nothing (changed=0); see {result.log}"
        raise RuntimeError(msg)
    return UpdateResult(result.seconds, result.changed, len(poller.polls), poller.failed, poller.longest_gap)


def start_fleet(work: Workspace, installer_url: str, size: int, tag: str) -> Fleet:
    fleet = hosts.start_hosts(f"n{size}{tag}", size, work.public_key)
    return Fleet(fleet, write_inventory(work, fleet, installer_url, f"n{size}{tag}"))


def measure_fleet(work: Workspace, fleet: Fleet, tag: str) -> FleetResult:
    """A fresh converge of the fleet, then a no-op one (with the CPU the hosts used during it)."""
    size = len(fleet.hosts)
    fresh = converge(fleet.inventory, work.logs / f"fresh-{size}-{tag}.log", playbook.PROFILE_ENV).check()
    before = hosts.cpu_seconds(fleet.hosts)
    noop = converge(fleet.inventory, work.logs / f"noop-{size}-{tag}.log").check()
    after = hosts.cpu_seconds(fleet.hosts)
    target = after - before if before is not None and after is not None else None
    return FleetResult(size, fresh, noop, target)


def measure_noop(
    work: Workspace,
    fleet: Fleet,
    env: Mapping[str, str],
    hosts_: int,
    name: str,
    extra_vars: Mapping[str, Any] | None = None,
) -> playbook.RunResult:
    """A no-op converge of the first hosts_ hosts of a converged fleet under controller settings env."""
    limit = ",".join(host.name for host in fleet.hosts[:hosts_])
    log = work.logs / f"{name}.log"
    return converge(fleet.inventory, log, env, extra_vars=extra_vars, options=["--limit", limit]).check()
