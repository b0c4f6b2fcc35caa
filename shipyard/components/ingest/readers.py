"""Open any source as a `BatchStream`: the one entry point for every format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.components.ingest.sources import FileSource, QuerySource

if TYPE_CHECKING:
    from shipyard.components.ingest.options import ReadOptions
    from shipyard.components.ingest.stream import BatchStream


def open_source(source: FileSource | QuerySource, options: ReadOptions) -> BatchStream:
    """Open files of one format, or a query, as a stream of batches with one schema.

    Raises:
        DataError: The data cannot be read; the error names the file, line and column.
        InvalidParameterError: A reading parameter does not fit the data.
    """
    if isinstance(source, QuerySource):
        from shipyard.components.ingest.sql import open_query

        return open_query(source, options)
    if source.format == "csv":
        from shipyard.components.ingest.csv_reader import open_csv

        return open_csv(source.files, options)
    from shipyard.components.ingest import formats

    opener = {
        "parquet": formats.open_parquet,
        "arrow": formats.open_arrow,
        "jsonl": formats.open_jsonl,
    }[source.format]
    return opener(source.files, options)
