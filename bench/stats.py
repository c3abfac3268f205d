"""Median, minimum and maximum of repeated measurements."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    """One figure: the median of its samples, with their minimum and maximum."""

    median: float
    low: float
    high: float
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stat:
        if not samples:
            msg = "a figure needs at least one sample"
            raise ValueError(msg)
        return cls(statistics.median(samples), min(samples), max(samples), tuple(samples))

    def as_json(self) -> dict[str, object]:
        return {
            "median": round(self.median, 3),
            "min": round(self.low, 3),
            "max": round(self.high, 3),
            "samples": [round(s, 3) for s in self.samples],
        }


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-iteration ratios: each measurement divided by its baseline from the same iteration."""
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d > 0]
