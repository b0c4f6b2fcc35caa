"""Statistics (TFX's StatisticsGen, TFDV): per split and feature, computed with Polars.

`compute_statistics` is the component, over every split of an `Examples` artifact;
`compute_dataset_statistics` summarizes one in-memory Arrow table. The values they produce
are the dataclasses of `shipyard.artifacts.statistics`. Polars is imported only when
statistics are computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.components.statistics.component import compute_statistics
    from shipyard.components.statistics.dataset import compute_dataset_statistics

__all__ = ["compute_dataset_statistics", "compute_statistics"]


def __getattr__(name: str) -> Any:
    """Load each name on first use: `compute_dataset_statistics` needs no component."""
    if name == "compute_statistics":
        from shipyard.components.statistics.component import compute_statistics

        return compute_statistics
    if name == "compute_dataset_statistics":
        from shipyard.components.statistics.dataset import compute_dataset_statistics

        return compute_dataset_statistics
    raise AttributeError(f"module 'shipyard.components.statistics' has no attribute {name!r}")
