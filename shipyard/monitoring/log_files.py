"""Writing one file of a request log or of its labels: named by time, process and number,
written under a hidden temporary name and renamed, so a reader never sees it half written.

    DIR/20260105T120301123456Z-4242-000001.parquet   (UTC time, pid, sequence)

The server's request log (`shipyard.serving.request_log`) and the labels of
`shipyard feedback` (`shipyard.monitoring.feedback`) both write this way; the monitor's
readers skip hidden names (`shipyard.monitoring.sources`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pyarrow as pa


def write_log_file(directory: Path, table: pa.Table, sequence: Iterator[int]) -> Path:
    """Write `table` as a new Parquet file in `directory` (made if missing); return its path.

    `sequence` numbers the files this process writes there (`itertools.count(1)`).
    """
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{os.getpid()}-{next(sequence):06d}.parquet"
    staging = directory / f".{name}.tmp"
    pq.write_table(table, staging)
    os.replace(staging, directory / name)
    return directory / name
