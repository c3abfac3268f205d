"""The issue's figures, computed from the samples of all iterations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import editions
import provision
import scenarios
import speedups
from baseline import steps
from playbook import slowest_tasks
from report import EditionRow, Metric
from stats import Stat, ratios

NOTES = [
    "Raw baseline: one shell script through `docker exec` on a fresh container of the same image: apt-get "
    "install tmux git, download and verify the stand-in installer, install it, pip install streamlit and the "
    "app's requirements into the base environment, copy the app in, `streamlit run` in tmux, wait for "
    "/_stcore/health. No virtualenv per release, no checks, no supervision: what the roles add is the price measured.",
    "Converges: playbooks/configure.yml over real SSH (127.0.0.1, published port 22) to sod-bench-* containers "
    "from local/streamlit-ops-debian12:latest booting systemd, as demo/twin.py's twins; the stand-in Miniconda "
    "installer is served from a sod-bench-http container; pip downloads from PyPI through this machine's "
    "HTTPS proxy on both sides, no cache shared between containers. The proxy drops PyPI's Cache-Control "
    "headers, so pip's HTTP cache keeps nothing here and the pip editions download every package again for "
    "version 2; against PyPI, pip would take them from the app's cache. uv caches wheels whatever the headers say.",
    "Provision: playbooks/provision.yml against moto on loopback (wiped before each fresh run), "
    "ec2_launch_wait_for_ssh and ec2_launch_wait_for_port false; the re-run changes nothing.",
    "Update: version 2 of the example app (one line added) deployed with configure.yml on a host serving "
    "version 1, while a client polls /_stcore/health and the page every 100 ms (1 s timeout); a poll fails "
    "unless both answer as Streamlit. Gap: longest time between two good polls with failed ones between.",
    "No-op CPU: user + system time of ansible-playbook and every process it waited for (from wait4: its "
    "workers and their ssh commands, not the ControlPersist master an earlier run started, which does the "
    "encryption), and the CPU time the hosts' containers used during the run (their cgroups, idle services "
    "included). The containers share this "
    "machine's CPUs with the controller, so here the hosts' share adds to a fleet's wall time; on EC2 each "
    "instance spends its own.",
    "Controller memory: peak of the summed RSS of ansible-playbook and all its descendants, sampled every "
    "0.2 s (workers and ssh clients included); the largest single process is ru_maxrss from wait4.",
    "Size (counts, not timings): the task lines `ansible-playbook --list-tasks playbooks/configure.yml` prints "
    "(files it includes at run time are not expanded) and every line of the YAML files under roles/, for the "
    "checkout and for the collection before the play-level gate (issue 18), extracted with git archive.",
]


@dataclass
class Samples:
    raw: list[float] = field(default_factory=list)
    raw_log: Path | None = None
    fleets: dict[int, list[scenarios.FleetResult]] = field(default_factory=dict)
    updates: list[scenarios.UpdateResult] = field(default_factory=list)
    provision: dict[int, list[provision.ProvisionTimes]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)
    variants: list[speedups.VariantResult] = field(default_factory=list)
    editions: dict[str, list[editions.EditionResult]] = field(default_factory=dict)
    codesize: list[Metric] = field(default_factory=list)  # counted once per run (bench/codesize.py)

    def fresh(self, size: int) -> list[float]:
        return [r.fresh.seconds for r in self.fleets.get(size, [])]

    def noop(self, size: int) -> list[float]:
        return [r.noop.seconds for r in self.fleets.get(size, [])]


def front_door_figures(s: Samples) -> list[Metric]:
    """What the front door (nginx, TLS) costs on a fresh converge: as shipped against the same without it."""
    without = s.editions.get(editions.NO_FRONT_DOOR.name)
    if not without or not s.fleets.get(1):
        return []
    fresh1 = s.fresh(1)[: len(without)]
    bare = [r.fresh.seconds for r in without]
    extra = Stat.of([a - b for a, b in zip(fresh1, bare, strict=False)]).median
    return [
        Metric(
            "front_door_fresh_cost",
            "s",
            Stat.of(fresh1),
            Stat.of(bare),
            "fresh converge without the front door",
            Stat.of(ratios(fresh1, bare)),
            note=f"{extra:.1f} s more: nginx installed, a certificate, the site",
        )
    ]


def converge_figures(s: Samples) -> list[Metric]:
    fresh1, noop1 = s.fresh(1), s.noop(1)
    changed = [r.noop.changed for r in s.fleets[1]]
    return [
        Metric(
            "converge_ratio",
            "s",
            Stat.of(fresh1),
            Stat.of(s.raw),
            "raw script",
            Stat.of(ratios(fresh1, s.raw)),
            "≤ 1.3 (aim ≤ 1.1)",
            "fresh configure.yml, 1 host, with the front door",
        ),
        Metric(
            "rerun_ratio",
            "s",
            Stat.of(noop1),
            Stat.of(fresh1),
            "fresh converge",
            Stat.of(ratios(noop1, fresh1)),
            "≤ 0.15, changed=0",
            f"changed={max(changed)} (max over iterations)",
        ),
    ]


def fleet_figures(s: Samples) -> list[Metric]:
    rows = noop_cpu_figures(s, 1)
    for size in sorted(k for k in s.fleets if k > 1):
        fresh, noop = s.fresh(size), s.noop(size)
        changed = max(r.noop.changed for r in s.fleets[size])
        rows += [
            Metric(
                f"fleet_noop_ratio_{size}",
                "s",
                Stat.of(noop),
                Stat.of(s.noop(1)),
                "no-op, 1 host",
                Stat.of(ratios(noop, s.noop(1))),
                "≤ 2.0" if size == 8 else "",
                f"changed={changed}",
            ),
            Metric(
                f"fleet_fresh_ratio_{size}",
                "s",
                Stat.of(fresh),
                Stat.of(s.fresh(1)),
                "fresh, 1 host",
                Stat.of(ratios(fresh, s.fresh(1))),
            ),
        ]
        rows += noop_cpu_figures(s, size)
    return rows


def noop_cpu_figures(s: Samples, size: int) -> list[Metric]:
    """Where a no-op spends CPU: the controller's process tree, and the hosts' containers (against 1 host)."""
    one, many = s.fleets[1], s.fleets[size]
    rows = []
    for name, pick, note in (
        (
            "controller",
            lambda r: r.noop.cpu_s,
            "ansible-playbook, its workers and ssh commands (not the ControlPersist master)",
        ),
        (
            "hosts",
            lambda r: r.noop_target_cpu_s,
            "the hosts' containers over the run (sshd, sudo, probes, idle services), on the same CPUs here",
        ),
    ):
        values, values1 = [pick(r) for r in many], [pick(r) for r in one]
        if None in values + values1:
            continue
        rows.append(
            Metric(
                f"fleet_noop_{name}_cpu_{size}",
                "CPU s",
                Stat.of(values),
                Stat.of(values1) if size > 1 else None,
                "1 host" if size > 1 else "",
                Stat.of(ratios(values, values1)) if size > 1 else None,
                note=note,
            )
        )
    return rows


def provision_figures(s: Samples, counts: tuple[int, int]) -> list[Metric]:
    one, many = (s.provision[c] for c in counts)
    fresh1, fresh_n = [t.fresh for t in one], [t.fresh for t in many]
    rerun1, rerun_n = [t.rerun for t in one], [t.rerun for t in many]
    changed = max(t.rerun_changed for t in one + many)
    n = counts[1]
    return [
        Metric(
            f"provision_ratio_{n}",
            "s",
            Stat.of(fresh_n),
            Stat.of(fresh1),
            "1 instance",
            Stat.of(ratios(fresh_n, fresh1)),
            "",
            f"fresh, {n} instances vs 1",
        ),
        Metric(
            f"provision_rerun_ratio_{n}",
            "s",
            Stat.of(rerun_n),
            Stat.of(rerun1),
            "1 instance",
            Stat.of(ratios(rerun_n, rerun1)),
            "changed=0",
            f"re-run, changed={changed}",
        ),
    ]


def update_figures(s: Samples) -> list[Metric]:
    polls = Stat.of([u.polls for u in s.updates])
    seconds = Stat.of([u.seconds for u in s.updates])
    return [
        Metric(
            "update_failed_polls",
            "polls",
            Stat.of([u.failed_polls for u in s.updates]),
            target="0",
            note=f"of {polls.median:.0f} polls (HTTPS, through the front door) during a {seconds.median:.0f} s deploy",
        ),
        Metric("update_gap_s", "s", Stat.of([u.gap_s for u in s.updates]), target="0 (aim)"),
    ]


def memory_figures(s: Samples) -> list[Metric]:
    size = max(s.fleets)
    tree = [r.fresh.tree_rss_mb for r in s.fleets[size]]
    tree1 = [r.fresh.tree_rss_mb for r in s.fleets[1]]
    largest = [r.fresh.largest_rss_mb for r in s.fleets[size]]
    return [
        Metric(
            f"controller_peak_mb_{size}",
            "MB",
            Stat.of(tree),
            Stat.of(tree1),
            "1 host",
            Stat.of(ratios(tree, tree1)),
            note=f"fresh converge of {size} host(s), process tree",
        ),
        Metric(f"controller_largest_process_mb_{size}", "MB", Stat.of(largest), note="ru_maxrss"),
    ]


def figures(s: Samples, provision_counts: tuple[int, int]) -> list[Metric]:
    return (
        converge_figures(s)
        + front_door_figures(s)
        + fleet_figures(s)
        + provision_figures(s, provision_counts)
        + update_figures(s)
        + memory_figures(s)
        + s.codesize
    )


def after(s: Samples) -> list[Metric]:
    """rerun_ratio and the largest fleet's no-op ratio, as shipped and tuned, from the variants phase."""
    fresh1 = Stat.of(s.fresh(1)).median if s.fleets.get(1) else 0.0
    rows = []
    for variant in s.variants:
        if variant.name != speedups.SHIPPED and not variant.name.startswith(speedups.TUNED):
            continue
        label = "as shipped" if variant.name == speedups.SHIPPED else "tuned"
        one = list(variant.noop[1].samples)
        rows.append(
            Metric(
                f"rerun_ratio ({label})",
                "s",
                variant.noop[1],
                Stat.of([fresh1]),
                "fresh converge",
                Stat.of([x / fresh1 for x in one]) if fresh1 else None,
                "≤ 0.15",
            )
        )
        size = max(variant.noop)
        if size > 1:
            many = list(variant.noop[size].samples)
            rows.append(
                Metric(
                    f"fleet_noop_ratio_{size} ({label})",
                    "s",
                    variant.noop[size],
                    variant.noop[1],
                    "no-op, 1 host",
                    Stat.of(ratios(many, one)),
                    "≤ 2.0",
                )
            )
    return rows


def edition_rows(s: Samples) -> list[EditionRow]:
    """The 1-host figures of each edition; "as shipped" is the main 1-host fleet of the same iterations."""
    if not s.fleets.get(1):
        return []
    shipped = [
        editions.EditionResult(fleet.fresh, fleet.noop, update)
        for fleet, update in zip(s.fleets[1], s.updates, strict=False)
    ]
    named = {k: v for k, v in s.editions.items() if k.startswith("before")}
    named["as shipped (pip)"] = shipped
    named |= {k: v for k, v in s.editions.items() if not k.startswith("before")}
    rows = []
    for name, results in named.items():
        raw = s.raw[: len(results)]
        fresh = [r.fresh.seconds for r in results]
        noop = [r.noop.seconds for r in results]
        rows.append(
            EditionRow(
                name,
                Stat.of(fresh),
                Stat.of(ratios(fresh, raw)),
                Stat.of(noop),
                Stat.of(ratios(noop, fresh)),
                max(r.noop.changed for r in results),
                Stat.of([r.update.seconds for r in results]),
                Stat.of([r.update.failed_polls for r in results]),
                Stat.of([r.update.gap_s for r in results]),
            )
        )
    return rows


def where_time_goes(s: Samples, provision_counts: tuple[int, int]) -> dict[str, list[tuple[str, float]]]:
    """The last iteration's slowest steps: raw script, fresh 1-host converge, fresh provision of N."""
    found: dict[str, list[tuple[str, float]]] = {}
    if s.raw_log is not None:
        found["raw baseline, by step"] = steps(s.raw_log)
    if s.fleets.get(1):
        found["fresh configure.yml on 1 host, slowest tasks"] = slowest_tasks(s.fleets[1][-1].fresh.log)
    n = provision_counts[1]
    if s.provision.get(n):
        found[f"fresh provision.yml of {n} instances, slowest tasks"] = slowest_tasks(s.provision[n][-1].fresh_log)
    return found
