"""Controller-side speed-ups, measured as no-op converges of a converged fleet.

Two rows show what the settings already shipped in ansible.cfg / Ansible's defaults
are worth (by switching them off); the candidates are added one at a time, and the
ones that help are then measured together as "tuned".
"""

from __future__ import annotations

from dataclasses import dataclass

import scenarios
from stats import Stat
from workspace import Workspace

SHIPPED = "as shipped (pipelining on, ControlPersist=60s, the gate ends a converged host's play)"
FULL_PATH = "full path on every run (converged_enabled=false)"
# What switching off a shipped setting costs: not candidates, they are already on.
REFERENCES: dict[str, dict[str, str]] = {
    SHIPPED: {},
    "without pipelining": {"ANSIBLE_PIPELINING": "false"},
    "without ControlPersist": {"ANSIBLE_SSH_ARGS": "-C -o ControlMaster=no"},
    FULL_PATH: {},
}
# Extra variables of a row (the same controller settings as shipped).
EXTRA_VARS: dict[str, dict[str, object]] = {
    FULL_PATH: {"converged_enabled": False},
}
# Cheap controller-side changes a user (or the demo inventory) could adopt.
CANDIDATES: dict[str, dict[str, str]] = {
    "fixed interpreter (no discovery)": {"ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"},
    "strategy free": {"ANSIBLE_STRATEGY": "free"},
}
QUICK_CANDIDATE = "fixed interpreter (no discovery)"
TUNED = "tuned (the candidates that helped)"
HELPS = 0.97  # a candidate is kept when its no-op median is at most 97 % of the shipped one on every size


@dataclass(frozen=True)
class VariantResult:
    name: str
    env: dict[str, str]
    noop: dict[int, Stat]  # fleet size -> no-op converge seconds
    changed: int
    kept: bool | None  # None: a reference row, not a candidate


def measure(
    work: Workspace, fleet: scenarios.Fleet, variants: dict[str, dict[str, str]], sizes: list[int], reps: int
) -> dict[str, tuple[dict[int, Stat], int]]:
    """Each variant's no-op converge on each size, reps times, interleaved so drift hits all alike."""
    samples: dict[str, dict[int, list[float]]] = {name: {size: [] for size in sizes} for name in variants}
    changed = dict.fromkeys(variants, 0)
    for rep in range(reps):
        for name, env in variants.items():
            for size in sizes:
                slug = name.split(" (")[0].replace(" ", "_")
                tag = f"variant-{slug}-{size}-{rep}"
                run = scenarios.measure_noop(work, fleet, env, size, tag, EXTRA_VARS.get(name))
                samples[name][size].append(run.seconds)
                changed[name] += run.changed
    return {name: ({s: Stat.of(v) for s, v in per.items()}, changed[name]) for name, per in samples.items()}


def merged(names: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in names:
        env.update(CANDIDATES[name])
    return env


def run_all(work: Workspace, fleet: scenarios.Fleet, sizes: list[int], reps: int, quick: bool) -> list[VariantResult]:
    """All settings (quick: the shipped one and one candidate), then the kept candidates together."""
    if quick:
        chosen = {SHIPPED: REFERENCES[SHIPPED], QUICK_CANDIDATE: CANDIDATES[QUICK_CANDIDATE]}
    else:
        chosen = {**REFERENCES, **CANDIDATES}
    measured = measure(work, fleet, chosen, sizes, reps)
    shipped = measured[SHIPPED][0]
    results = []
    for name, (noop, changed) in measured.items():
        helps = all(noop[s].median <= HELPS * shipped[s].median for s in sizes) if name in CANDIDATES else None
        env = REFERENCES.get(name) or CANDIDATES.get(name, {})
        results.append(VariantResult(name, env, noop, changed, helps))
    kept = [r.name for r in results if r.kept]
    if kept:
        env = merged(kept)
        noop, changed = measure(work, fleet, {TUNED: env}, sizes, reps)[TUNED]
        results.append(VariantResult(f"{TUNED}: {', '.join(kept)}", env, noop, changed, True))
    return results
