"""A tiny species classifier, pure Python so the example installs only Streamlit.

Nearest centroid on standardised measurements: enough to stand for the trained model a
real app unpickles at start (a scikit-learn pipeline, say), which is the point of the example.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import dist
from statistics import fmean, pstdev

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


@dataclass(frozen=True)
class NearestCentroid:
    means: tuple[float, ...]
    scales: tuple[float, ...]
    centroids: dict[str, tuple[float, ...]]

    @classmethod
    def fit(cls, rows: list[tuple[float, ...]], labels: list[str]) -> NearestCentroid:
        columns = list(zip(*rows, strict=True))
        means = tuple(fmean(column) for column in columns)
        scales = tuple(pstdev(column) or 1.0 for column in columns)
        model = cls(means, scales, {})
        scaled = [model.scale(row) for row in rows]
        for label in sorted(set(labels)):
            members = [row for row, found in zip(scaled, labels, strict=True) if found == label]
            model.centroids[label] = tuple(fmean(column) for column in zip(*members, strict=True))
        return model

    def scale(self, row: tuple[float, ...]) -> tuple[float, ...]:
        return tuple((value - mean) / scale for value, mean, scale in zip(row, self.means, self.scales, strict=True))

    def predict(self, row: tuple[float, ...]) -> str:
        point = self.scale(row)
        return min(self.centroids, key=lambda label: dist(point, self.centroids[label]))
