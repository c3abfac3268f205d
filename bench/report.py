"""bench/results/latest.md (a table) and latest.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from speedups import VariantResult
from stats import Stat


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    value: Stat
    baseline: Stat | None = None
    baseline_label: str = ""
    ratio: Stat | None = None
    target: str = ""
    note: str = ""


@dataclass(frozen=True)
class EditionRow:
    """One version of the collection on one fresh host: fresh, no-op and update."""

    name: str
    fresh: Stat
    converge_ratio: Stat
    noop: Stat
    rerun_ratio: Stat
    noop_changed: int
    update: Stat
    failed_polls: Stat
    gap: Stat


@dataclass
class Report:
    meta: dict[str, object]
    metrics: list[Metric] = field(default_factory=list)
    variants: list[VariantResult] = field(default_factory=list)
    after: list[Metric] = field(default_factory=list)
    editions: list[EditionRow] = field(default_factory=list)
    profiles: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


COUNTS = ("tasks", "lines")  # whole numbers


def fmt(stat: Stat | None, unit: str = "") -> str:
    if stat is None:
        return ""
    digits = 0 if unit in ("polls", "MB", *COUNTS) else 2
    return f"{stat.median:.{digits}f}{(' ' + unit) if unit else ''}"


def spread(stat: Stat | None, digits: int = 2) -> str:
    return "" if stat is None else f"{stat.low:.{digits}f} / {stat.high:.{digits}f}"


def metric_rows(metrics: list[Metric]) -> list[str]:
    rows = [
        "| metric | value | baseline | ratio | target | value min / max | ratio min / max | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in metrics:
        baseline = f"{fmt(m.baseline, m.unit)} ({m.baseline_label})" if m.baseline else ""
        rows.append(
            f"| `{m.name}` | {fmt(m.value, m.unit)} | {baseline} | {fmt(m.ratio)} | {m.target} "
            f"| {spread(m.value, 0 if m.unit in COUNTS else 2)} | {spread(m.ratio)} | {m.note} |"
        )
    return rows


def variant_rows(variants: list[VariantResult]) -> list[str]:
    sizes = sorted({size for v in variants for size in v.noop})
    head = " | ".join(f"no-op on {s} (min / max)" for s in sizes)
    rows = [f"| controller setting | {head} | changed | kept |", "| --- |" + " --- |" * (len(sizes) + 2)]
    for v in variants:
        cells = " | ".join(f"{v.noop[s].median:.2f} s ({spread(v.noop[s])})" for s in sizes)
        kept = "reference" if v.kept is None else ("yes" if v.kept else "no")
        rows.append(f"| {v.name} | {cells} | {v.changed} | {kept} |")
    return rows


def edition_table(rows: list[EditionRow]) -> list[str]:
    lines = [
        "| collection | fresh converge | converge_ratio | no-op re-run | rerun_ratio "
        "| update | failed polls | longest gap |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {fmt(r.fresh, 's')} ({spread(r.fresh, 1)}) | {fmt(r.converge_ratio)} "
            f"| {fmt(r.noop, 's')} ({spread(r.noop, 1)}), changed={r.noop_changed} | {fmt(r.rerun_ratio)} "
            f"| {fmt(r.update, 's')} ({spread(r.update, 1)}) | {fmt(r.failed_polls, 'polls')} | {fmt(r.gap, 's')} |"
        )
    return lines


def markdown(report: Report) -> str:
    meta = report.meta
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python bench/run.py{' --quick' if meta['quick'] else ''}` on {meta['finished']} "
        f"(commit {meta['commit']}); {meta['iterations']} iteration(s); wall time {meta['wall_s']} s.",
        f"Machine: {meta['cpus']} CPUs, shared; load average (1 min) {meta['load_start']} at the start, "
        f"{meta['load_end']} at the end, {meta['load_median']} median across the measurements.",
        "Each figure is the median of the iterations; ratios are per iteration (each measurement over",
        "its baseline from the same iteration), then their median. Seconds unless said otherwise.",
        "",
        "## The figures: the collection as shipped",
        "",
        *metric_rows(report.metrics),
    ]
    if report.editions:
        lines += [
            "",
            "## Make it fast: the roles before and after (one fresh host each, same iterations)",
            "",
            "Fresh converge and its ratio to the raw script; the no-op re-run and its ratio to the fresh",
            "converge; deploying app version 2 under polling. Medians (min / max).",
            "",
            *edition_table(report.editions),
        ]
    if report.variants:
        lines += [
            "",
            "## Make it fast: controller-side settings (no-op converges of a converged fleet)",
            "",
            *variant_rows(report.variants),
        ]
    if report.after:
        lines += ["", "## After: with the kept settings", "", *metric_rows(report.after)]
    for title, rows in report.profiles.items():
        lines += ["", f"## Where the time goes: {title}", "", "| step | seconds |", "| --- | --- |"]
        lines += [f"| {name.replace('|', '/')} | {seconds:.1f} |" for name, seconds in rows]
    notes = meta.get("notes", [])
    if isinstance(notes, list) and notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def metric_json(m: Metric) -> dict[str, object]:
    return {
        "name": m.name,
        "unit": m.unit,
        "value": m.value.as_json(),
        "baseline": m.baseline.as_json() if m.baseline else None,
        "baseline_label": m.baseline_label,
        "ratio": m.ratio.as_json() if m.ratio else None,
        "target": m.target,
        "note": m.note,
    }


def variant_json(v: VariantResult) -> dict[str, object]:
    return {
        "name": v.name,
        "env": v.env,
        "noop_s": {str(s): st.as_json() for s, st in v.noop.items()},
        "changed": v.changed,
        "kept": v.kept,
    }


def write(report: Report, out_dir: Path, suffix: str = "") -> tuple[Path, Path]:
    """latest.md and latest.json (with a suffix: the partial results of a run still going)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / f"latest.md{suffix}", out_dir / f"latest.json{suffix}"
    md.write_text(markdown(report))
    data = {
        "meta": report.meta,
        "metrics": [metric_json(m) for m in report.metrics],
        "speedups": [variant_json(v) for v in report.variants],
        "after": [metric_json(m) for m in report.after],
        "editions": [
            {
                "name": r.name,
                "fresh_s": r.fresh.as_json(),
                "converge_ratio": r.converge_ratio.as_json(),
                "noop_s": r.noop.as_json(),
                "rerun_ratio": r.rerun_ratio.as_json(),
                "noop_changed": r.noop_changed,
                "update_s": r.update.as_json(),
                "update_failed_polls": r.failed_polls.as_json(),
                "update_gap_s": r.gap.as_json(),
            }
            for r in report.editions
        ],
        "profiles": report.profiles,
    }
    js.write_text(json.dumps(data, indent=2) + "\n")
    return md, js
