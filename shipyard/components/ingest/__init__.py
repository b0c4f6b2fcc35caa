"""The `ingest` component (TFX's ExampleGen) and `load_dataset`, its reader for the CLI.

`ingest` reads CSV, Parquet, JSON-lines and Arrow IPC files (globs, directories, span
patterns `data/span-{SPAN}/v{VERSION}/*.csv`) or a SQL query (DuckDB file, SQLAlchemy URL),
streams them in batches with bounded memory, and writes one `Examples` artifact with one
Parquet file per split (hash buckets, a split column, or one source per split).
`load_dataset` reads the same sources into one Arrow table.

Modules, by responsibility: `component` (the component and its cache dependency), `plan`
(parameters), `sources` and `spans` (which files), `readers`, `csv_reader`, `formats`,
`sql`, `chunks` and `stream` (reading), `columns` (column checks), `splits` (assigning
rows), `writer` (Parquet per split), `dataset` (`load_dataset`), `fast_csv` and
`polars_csv` (its whole-file readers), `integrity` (text and row-count checks), `options`
(reading options), `partitions` and `ray_data` (reading a large file source on Ray Data
when the Ray engine runs the node: the local path's rows, order and errors).
Importing this package imports no data library: pyarrow, duckdb and sqlalchemy load inside
the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.components.ingest.component import ingest
    from shipyard.components.ingest.dataset import load_dataset

__all__ = ["ingest", "load_dataset"]


def __getattr__(name: str) -> Any:
    """Load each name on first use: a pipeline that only declares `ingest` (or a cached
    rerun) needs none of the readers behind it, and `load_dataset` needs no component."""
    if name == "ingest":
        from shipyard.components.ingest.component import ingest

        return ingest
    if name == "load_dataset":
        from shipyard.components.ingest.dataset import load_dataset

        return load_dataset
    raise AttributeError(f"module 'shipyard.components.ingest' has no attribute {name!r}")
