"""Request logging for monitoring: a sample of requests and their predictions, in Parquet.

A sampled request's rows go to a bounded buffer without ever blocking the request: rows that
do not fit are dropped and counted. A thread writes the buffer every `flush_s` seconds,
sooner once it is half full, and a last time at shutdown, so a clean stop loses nothing.
Each write makes one file per version, per worker process:

    DIR/MODEL/VERSION/20260105T120301123456Z-4242-000001.parquet   (UTC time, pid, sequence)

written under a hidden temporary name, then renamed, so readers never see a partial file.
Columns: `timestamp` (UTC, microseconds, when the request was answered), `model`, `version`,
`request_id`, `latency_ms` (float32: the server's time on the request, from the start of
parsing its body to its outputs; null when not measured), one column per input feature as
the model got it (missing values are null), and one per output (`class_ids`,
`probabilities` as a list, `class_labels`; or `predictions`). A feature or output named like
one of the first five columns is written as `input.NAME` or `output.NAME`. Logs written
before `latency_ms` existed lack the column; readers take it as missing.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from shipyard.serving.config import RequestLogOptions
    from shipyard.serving.feed import Feed

logger = logging.getLogger("shipyard.serving")
RESERVED = ("timestamp", "model", "version", "request_id", "latency_ms")


@dataclass(frozen=True)
class _Entry:
    timestamp_us: int
    model: str
    version: int
    request_id: str
    feed: Feed
    outputs: dict[str, np.ndarray]
    rows: int
    latency_ms: float | None


class RequestLog:
    """The buffer of sampled requests and the thread that writes it.

    Example:
        >>> log = RequestLog(RequestLogOptions(Path("logs"), sample=0.1))
        >>> log.start()
        >>> if log.sampled():
        ...     log.add(model="penguins", version=3, request_id="42", feed=feed, outputs=out)
        >>> log.close()  # writes what is left
    """

    def __init__(
        self,
        options: RequestLogOptions,
        *,
        on_rows: Callable[[str, int], None] | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        """Prepare the buffer; nothing is written before `start`.

        Args:
            options: Directory, sample, flush period and buffer size.
            on_rows: Called with `written` or `dropped` and a row count.
            draw: Returns a number in [0, 1) for each sampling decision.
        """
        self.options = options
        self._on_rows = on_rows
        self._draw = draw
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._rows = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._sequence = itertools.count(1)

    def sampled(self) -> bool:
        """Draw whether the next request is logged."""
        return self._draw() < self.options.sample

    def start_request(self) -> int | None:
        """Draw whether the request starting now is logged; if so, return its start time
        (`time.perf_counter_ns`), which `add` takes as `started_ns` to log its latency."""
        return time.perf_counter_ns() if self.sampled() else None

    def add(
        self,
        *,
        model: str,
        version: int,
        request_id: str,
        feed: Feed,
        outputs: dict[str, np.ndarray],
        started_ns: int | None = None,
    ) -> None:
        """Buffer one request's rows, or drop them (counted) when the buffer is full.

        `started_ns`: the request's `start_request` time; its latency is logged up to now.
        """
        rows = len(next(iter(feed.values())))
        latency_ms = None if started_ns is None else (time.perf_counter_ns() - started_ns) / 1e6
        entry = _Entry(
            time.time_ns() // 1000, model, version, request_id, feed, outputs, rows, latency_ms
        )
        limit = self.options.max_buffered_rows
        with self._lock:
            fits = self._rows + rows <= limit
            if fits:
                self._entries.append(entry)
                self._rows += rows
                if self._rows * 2 >= limit:
                    self._wake.set()
        if not fits:
            self._count("dropped", rows)

    def start(self) -> None:
        """Start the thread that writes the buffer every `flush_s` seconds."""
        self._thread = threading.Thread(target=self._run, name="shipyard-request-log", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write everything still buffered."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(60)
            self._thread = None
        self.flush()

    def flush(self) -> None:
        """Write what is buffered: one Parquet file per version."""
        with self._lock:
            entries, self._entries, self._rows = self._entries, [], 0
        groups: dict[tuple[str, int], list[_Entry]] = {}
        for entry in entries:
            groups.setdefault((entry.model, entry.version), []).append(entry)
        with self._write_lock:
            for (model, version), group in groups.items():
                rows = sum(entry.rows for entry in group)
                try:
                    self._write(model, version, group)
                except Exception:  # a full disk must not stop serving
                    logger.exception("Could not write %d request-log rows of %s.", rows, model)
                    self._count("dropped", rows)
                else:
                    self._count("written", rows)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.options.flush_s)
            self._wake.clear()
            if not self._stopping:
                self.flush()

    def _write(self, model: str, version: int, entries: list[_Entry]) -> None:
        from shipyard.monitoring.log_files import write_log_file

        table = _table(model, version, entries)
        write_log_file(self.options.directory / model / str(version), table, self._sequence)

    def _count(self, outcome: str, rows: int) -> None:
        if self._on_rows is not None:
            self._on_rows(outcome, rows)


def _table(model: str, version: int, entries: list[_Entry]) -> Any:
    """The Arrow table of some requests of one version: one row per request row."""
    import numpy as np
    import pyarrow as pa

    counts = [entry.rows for entry in entries]
    total = sum(counts)
    columns: dict[str, Any] = {
        "timestamp": pa.array(
            np.repeat([entry.timestamp_us for entry in entries], counts),
            pa.timestamp("us", tz="UTC"),
        ),
        "model": pa.array([model] * total, pa.string()),
        "version": pa.array(np.full(total, version, dtype=np.int64)),
        "request_id": pa.array(
            np.repeat(np.array([entry.request_id for entry in entries], dtype=object), counts),
            pa.string(),
        ),
        "latency_ms": pa.array(
            np.repeat(
                [np.nan if entry.latency_ms is None else entry.latency_ms for entry in entries],
                counts,
            ).astype(np.float32),
            pa.float32(),
            from_pandas=True,  # NaN: not measured, null
        ),
    }
    for prefix, parts in (
        ("input.", [entry.feed for entry in entries]),
        ("output.", [entry.outputs for entry in entries]),
    ):
        for name in parts[0]:
            values = np.concatenate([part[name] for part in parts])
            if prefix == "input.":
                values = values.reshape(total)
            columns[prefix + name if name in RESERVED else name] = _column(values, prefix)
    return pa.table(columns)


def _column(values: np.ndarray, prefix: str) -> Any:
    """One Arrow column: inputs with missing values as null; 2-D outputs as lists."""
    import pyarrow as pa

    if values.ndim > 1:
        width = math.prod(values.shape[1:])
        flat = _column(values.reshape(-1), prefix)
        return pa.FixedSizeListArray.from_arrays(flat, width)
    if values.dtype == object:
        missing = (values == "") if prefix == "input." else None
        return pa.array(values, pa.string(), mask=missing)
    return pa.array(values, from_pandas=prefix == "input.")
