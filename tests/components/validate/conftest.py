"""Statistics built by hand from Python lists, so validation is tested on its own."""

from __future__ import annotations

from collections import Counter

import pytest

from shipyard.artifacts import (
    DatasetStatistics,
    FeatureStatistics,
    Histogram,
    ListStatistics,
    NumericStatistics,
    StringStatistics,
    ValueCount,
)
from shipyard.artifacts.statistics import FeatureType


class StatsFactory:
    """Builds `FeatureStatistics` the way the statistics component would (simplified)."""

    def numeric(
        self,
        name: str,
        values: list[float | None],
        *,
        type: FeatureType = "float",
        buckets: int = 4,
        infinite: int = 0,
    ) -> FeatureStatistics:
        present = [float(v) for v in values if v is not None]
        low, high = min(present), max(present)
        if low == high:
            edges = [low, high]
        else:
            step = (high - low) / buckets
            edges = [low + i * step for i in range(buckets)] + [high]
        counts = [0.0] * (len(edges) - 1)
        for value in present:
            index = sum(value >= edge for edge in edges[1:-1])
            counts[index] += 1
        histogram = Histogram("equal_width", edges, counts)
        numeric = NumericStatistics(
            mean=sum(present) / len(present),
            std=None,
            min=low,
            max=high,
            median=None,
            zeros=present.count(0.0),
            nan=0,
            infinite=infinite,
            quantiles=[],
            histogram=histogram,
            quantile_histogram=Histogram("quantiles", [], []),
        )
        return FeatureStatistics(
            name, type, len(present) + infinite, values.count(None), numeric=numeric
        )

    def histogram(
        self, name: str, edges: list[float], counts: list[float], *, type: FeatureType = "float"
    ) -> FeatureStatistics:
        numeric = NumericStatistics(
            mean=None,
            std=None,
            min=edges[0],
            max=edges[-1],
            median=None,
            zeros=0,
            nan=0,
            infinite=0,
            quantiles=[],
            histogram=Histogram("equal_width", edges, counts),
            quantile_histogram=Histogram("quantiles", [], []),
        )
        return FeatureStatistics(name, type, int(sum(counts)), 0, numeric=numeric)

    def strings(
        self, name: str, values: list[str | None], *, type: FeatureType = "string"
    ) -> FeatureStatistics:
        present = [v for v in values if v is not None]
        counts = Counter(present).most_common()
        string = StringStatistics(
            distinct=len(counts),
            top_values=[ValueCount(value, float(count)) for value, count in counts],
            avg_length=sum(map(len, present)) / max(len(present), 1),
        )
        return FeatureStatistics(name, type, len(present), values.count(None), string=string)

    def lists(self, name: str, lengths: list[int | None]) -> FeatureStatistics:
        present = [n for n in lengths if n is not None]
        lists = ListStatistics(min(present), max(present), sum(present) / len(present))
        return FeatureStatistics(name, "list", len(present), lengths.count(None), lists=lists)

    def dataset(self, *features: FeatureStatistics) -> DatasetStatistics:
        rows = max((f.count + f.missing for f in features), default=0)
        return DatasetStatistics(rows, {f.name: f for f in features})


@pytest.fixture
def stats() -> StatsFactory:
    return StatsFactory()
