"""The `compute_statistics` component: statistics of every split of an `Examples` artifact."""

from __future__ import annotations

from shipyard.artifacts import Examples, Statistics
from shipyard.components.statistics.dataset import (
    HISTOGRAM_BUCKETS,
    QUANTILE_SAMPLE_ROWS,
    compute_dataset_statistics,
)
from shipyard.dsl import Out, component


@component
def compute_statistics(
    examples: Examples,
    statistics: Out[Statistics],
    *,
    weight_column: str | None = None,
    slice_columns: list[str] = [],  # noqa: B006 - a JSON parameter; never mutated
    histogram_buckets: int = HISTOGRAM_BUCKETS,
    quantile_sample_rows: int = QUANTILE_SAMPLE_ROWS,
) -> None:
    """Summarize every split of `examples` into per-feature statistics (TFX StatisticsGen).

    Args:
        examples: The dataset; each split is read from its Parquet files.
        statistics: Receives one `DatasetStatistics` per split.
        weight_column: A numeric column of example weights for the `weighted_*` figures.
        slice_columns: Columns whose values slice each split (`slices["column=value"]`).
        histogram_buckets: Buckets of the equal-width histograms.
        quantile_sample_rows: Quantiles are exact up to this many values per column, and
            estimated from a uniform sample of this many beyond.

    Raises:
        InvalidParameterError: A weight or slice column does not exist in a split.

    Example:
        >>> stats = compute_statistics(examples=ingest(source="data.csv").outputs.examples)
        >>> infer_schema(statistics=stats.outputs.statistics)
    """
    computed = {
        split: compute_dataset_statistics(
            examples.read(split),
            weight_column=weight_column,
            slice_columns=slice_columns,
            histogram_buckets=histogram_buckets,
            quantile_sample_rows=quantile_sample_rows,
        )
        for split in examples.splits
    }
    statistics.save(computed)  # one save: the report of every split is rendered once
    statistics.properties["rows"] = {split: stats.num_rows for split, stats in computed.items()}
