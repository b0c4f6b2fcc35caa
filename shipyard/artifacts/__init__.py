"""Artifacts: the typed directories components read and write, and their codecs.

May import `shipyard.io`, `shipyard.errors` and `shipyard.plugins` only.
"""

from shipyard.artifacts.artifact import Artifact, artifact_type
from shipyard.artifacts.standard import Examples, Metrics
from shipyard.artifacts.statistics import (
    DatasetStatistics,
    FeatureStatistics,
    Histogram,
    ListStatistics,
    NumericStatistics,
    Statistics,
    StringStatistics,
    ValueCount,
)

__all__ = [
    "Artifact",
    "DatasetStatistics",
    "Examples",
    "FeatureStatistics",
    "Histogram",
    "ListStatistics",
    "Metrics",
    "NumericStatistics",
    "Statistics",
    "StringStatistics",
    "ValueCount",
    "artifact_type",
]
