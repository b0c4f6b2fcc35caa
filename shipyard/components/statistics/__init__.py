"""Statistics (TFX's StatisticsGen, TFDV): per split and feature, computed with Polars.

`compute_statistics` is the component, over every split of an `Examples` artifact;
`compute_dataset_statistics` summarizes one in-memory Arrow table. The values they produce
are the dataclasses of `shipyard.artifacts.statistics`. Polars is imported only when
statistics are computed.
"""

from __future__ import annotations

from shipyard.components.statistics.component import compute_statistics
from shipyard.components.statistics.dataset import compute_dataset_statistics

__all__ = ["compute_dataset_statistics", "compute_statistics"]
