"""Benchmarks: the price of automation, measured against doing it by hand (issue 7).

    python bench/run.py            # 3 iterations of everything -> bench/results/latest.{md,json}
    python bench/run.py --quick    # 1 iteration, 1-host figures, provision 1 vs 2 -> .cache/bench/results/

Every container it starts is named sod-bench-*; leftovers of an interrupted run are removed
first, and everything (containers, network, the moto server) is removed at the end, even on failure.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.support.moto

import codesize  # noqa: E402
import editions  # noqa: E402
import hosts  # noqa: E402
import metrics  # noqa: E402
import provision  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402
import speedups  # noqa: E402
from metrics import Samples  # noqa: E402
from workspace import Workspace, prepare  # noqa: E402

from tests.support import moto  # noqa: E402

WORK = REPO / ".cache" / "bench"
LOCK = "/tmp/sod-bench.lock"  # machine-wide, not per checkout: container names are machine-wide


@dataclass(frozen=True)
class Plan:
    quick: bool
    iterations: int
    sizes: list[int]
    provision_counts: tuple[int, int]
    out_dir: Path

    @property
    def variant_sizes(self) -> list[int]:
        """1 host and the middle fleet (4): the 8-host no-op times each variant would double the run."""
        return sorted({self.sizes[0], self.sizes[len(self.sizes) // 2]})


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one iteration, 1-host figures, provision 1 vs 2")
    parser.add_argument("--iterations", type=int, default=3, help="iterations of the full run (at least 3)")
    parser.add_argument("--out", type=Path, help="results directory (default: bench/results, or .cache/bench/results)")
    args = parser.parse_args(argv)
    if args.quick:
        return Plan(True, 1, [1], (1, 2), args.out or WORK / "results")
    if args.iterations < 3:
        parser.error("--iterations must be at least 3 (use --quick for a one-iteration smoke)")
    return Plan(False, args.iterations, [1, 4, 8], (1, 10), args.out or REPO / "bench" / "results")


def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fleet_round(work: Workspace, plan: Plan, url: str, samples: Samples, size: int, iteration: int) -> None:
    """Fresh and no-op converge on a new fleet; on the last iteration the speed-up variants; on 1 host the update."""
    tag = f"i{iteration}"
    fleet = scenarios.start_fleet(work, url, size, tag)
    try:
        samples.loads.append(scenarios.load1())
        result = scenarios.measure_fleet(work, fleet, tag)
        samples.fleets.setdefault(size, []).append(result)
        say(
            f"{size} host(s): fresh {result.fresh.seconds:.1f} s, no-op {result.noop.seconds:.1f} s "
            f"(changed={result.noop.changed}), controller peak {result.fresh.tree_rss_mb:.0f} MB"
        )
        if iteration == plan.iterations - 1 and size == plan.sizes[-1]:
            say("speed-up variants (no-op converges)")
            samples.variants = speedups.run_all(work, fleet, plan.variant_sizes, plan.iterations, plan.quick)
        if size == 1:
            update = scenarios.measure_update(work, fleet.inventory, fleet.hosts[0], tag)
            samples.updates.append(update)
            say(f"update: {update.failed_polls}/{update.polls} polls failed, longest gap {update.gap_s:.1f} s")
    finally:
        hosts.remove(fleet.hosts)


def provision_round(work: Workspace, plan: Plan, server: moto.MotoServer, samples: Samples, iteration: int) -> None:
    for count in plan.provision_counts:
        times = provision.measure(server, work.root, work.public_key, count, f"i{iteration}")
        samples.provision.setdefault(count, []).append(times)
        say(f"provision {count}: fresh {times.fresh:.1f} s, re-run {times.rerun:.1f} s (changed={times.rerun_changed})")


def iteration_round(work: Workspace, plan: Plan, url: str, server: moto.MotoServer, samples: Samples, i: int) -> None:
    say(f"iteration {i + 1}/{plan.iterations}: raw baseline")
    samples.loads.append(scenarios.load1())
    seconds, samples.raw_log = scenarios.measure_baseline(work, url, f"i{i}")
    samples.raw.append(seconds)
    say(f"raw baseline {samples.raw[-1]:.1f} s")
    for size in plan.sizes:
        fleet_round(work, plan, url, samples, size, i)
    for edition in plan_editions(work, plan):
        samples.loads.append(scenarios.load1())
        result = editions.measure(work, url, edition, f"i{i}")
        samples.editions.setdefault(edition.name, []).append(result)
        say(
            f"{edition.name}: fresh {result.fresh.seconds:.1f} s, no-op {result.noop.seconds:.1f} s, "
            f"update {result.update.seconds:.1f} s with {result.update.failed_polls} failed polls"
        )
    samples.loads.append(scenarios.load1())
    provision_round(work, plan, server, samples, i)


def plan_editions(work: Workspace, plan: Plan) -> list[editions.Edition]:
    """Quick: uv and no front door (so they cannot rot). Full: also the restart strategy, and the collection before
    the speed work when the checkout has it."""
    if plan.quick:
        return [editions.UV, editions.NO_FRONT_DOOR]
    before = editions.before(work.root)
    return ([] if before is None else [before]) + [editions.UV, editions.RESTART, editions.NO_FRONT_DOOR]


def git_commit() -> str:
    command = ["git", "rev-parse", "--short", "HEAD"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


COMMIT = git_commit()  # the code measured: HEAD when the run started


def meta(plan: Plan, samples: Samples, started: float, load_start: float) -> dict[str, object]:
    loads = sorted(samples.loads) or [load_start]
    return {
        "quick": plan.quick,
        "iterations": plan.iterations,
        "finished": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": COMMIT,
        "wall_s": round(time.monotonic() - started),
        "cpus": os.cpu_count(),
        "load_start": round(load_start, 2),
        "load_end": round(os.getloadavg()[0], 2),
        "load_median": round(loads[len(loads) // 2], 2),
        "notes": metrics.NOTES,
    }


def exclusive() -> int:
    """One benchmark at a time on this machine, from any checkout: the sod-bench-* names are machine-wide."""
    lock = os.open(LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        msg = f"another benchmark is running on this machine (lock {LOCK}); wait for it to finish"
        raise SystemExit(msg) from None
    return lock


def build_report(plan: Plan, samples: Samples, started: float, load_start: float) -> report.Report:
    return report.Report(
        meta(plan, samples, started, load_start),
        metrics.figures(samples, plan.provision_counts),
        samples.variants,
        metrics.after(samples),
        metrics.edition_rows(samples),
        metrics.where_time_goes(samples, plan.provision_counts),
    )


def measure_all(plan: Plan, samples: Samples, started: float, load_start: float) -> None:
    """Every iteration; after each, the results so far as latest.*.tmp (an interrupted run leaves them)."""
    work = prepare(WORK)
    samples.codesize = codesize.figures(work.root)
    hosts.remove_all()
    url = hosts.start_installer_server(work.installer_dir)
    with moto.running(WORK / "moto") as server:
        provision.warm_up(server)
        for i in range(plan.iterations):
            iteration_round(work, plan, url, server, samples, i)
            report.write(build_report(plan, samples, started, load_start), plan.out_dir, ".tmp")


def main(argv: list[str] | None = None) -> int:
    plan = parse_args(argv)
    lock = exclusive()
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    started, load_start = time.monotonic(), os.getloadavg()[0]
    samples = Samples()
    try:
        measure_all(plan, samples, started, load_start)
    finally:
        hosts.remove_all()
        moto.stop(WORK / "moto")
    result = build_report(plan, samples, started, load_start)
    md, js = report.write(result, plan.out_dir)
    for partial in plan.out_dir.glob("latest.*.tmp"):
        partial.unlink()
    say(f"wrote {md} and {js} in {result.meta['wall_s']} s")
    os.close(lock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
