"""The `MonitoringReport` artifact: one run of `shipyard monitor`, its windows and its state.

Files:

- `windows.parquet`: every window the run measured, one row per window x column x measure
  (`window_start`, `window_end`, `complete`, `column`, `measure`, `value`); window-level
  figures (rows, requests, the drifted share, latency quantiles) have the column `*`;
- `report.json`: the run's report, the same JSON `shipyard monitor --json` prints (its shape
  is owned by `shipyard.monitoring.report`);
- `state.json`: what the monitor's next run starts from (`shipyard.monitoring.state`);
- `report.html`: the report as a page (`shipyard.monitoring.report_html`: the alerts, each
  column's drift over time, latency, decay), which the UI's artifact page shows; reports
  recorded before it existed have none.

This module owns the files and the Parquet table's columns; the monitoring layer fills them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.arrays import from_numpy, strings
from shipyard.artifacts.artifact import Artifact

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyarrow as pa

FigureRow = tuple[int, int, bool, str, str, float | None]
"""One figure: window start and end (microseconds), complete, column, measure, value."""
WINDOW_LEVEL = "*"
"""The `column` of a window's own figures (rows, requests, latency...)."""


class MonitoringReport(Artifact):
    """One monitor run's figures per window (Parquet), its JSON report and its state.

    Example:
        >>> report.figures().filter(pc.equal(report.figures()["measure"], "drift"))
        >>> report.summary()["alerts"]["firing"]
    """

    FIGURES = "windows.parquet"
    SUMMARY = "report.json"
    STATE = "state.json"
    PAGE = "report.html"

    def write(
        self,
        *,
        summary: dict[str, Any],
        figures: Iterable[FigureRow],
        state: dict[str, Any],
        page: str | None = None,
    ) -> None:
        """Write the files (the page if given) and record a few counts of the summary in
        `properties`."""
        import pyarrow.parquet as pq

        self.path.mkdir(parents=True, exist_ok=True)
        pq.write_table(figures_table(figures), self.path / self.FIGURES)
        for name, value in ((self.SUMMARY, summary), (self.STATE, state)):
            (self.path / name).write_text(json.dumps(value, indent=1), encoding="utf-8")
        if page is not None:
            (self.path / self.PAGE).write_text(page, encoding="utf-8")
        alerts = summary.get("alerts", {})
        self.properties.update(
            monitor=summary.get("monitor"),
            windows=len(summary.get("windows", [])),
            files_read=summary.get("files", {}).get("read"),
            rows_read=summary.get("rows", {}).get("read"),
            alerts_firing=len(alerts.get("firing", [])),
        )

    def save(self, value: dict[str, Any]) -> None:
        """Write `{"summary": {...}, "figures": [FigureRow, ...], "state": {...}}`."""
        self.write(summary=value["summary"], figures=value["figures"], state=value["state"])

    def load(self) -> dict[str, Any]:
        """Return what `save` took: the summary, the figures as `FigureRow`s, the state."""
        table = self.figures()
        columns = [table.column(name).to_pylist() for name in ("column", "measure", "value")]
        starts, ends = (_micros(table.column(name)) for name in ("window_start", "window_end"))
        complete = table.column("complete").to_pylist()
        return {
            "summary": self.summary(),
            "figures": list(zip(starts, ends, complete, *columns, strict=True)),
            "state": self.state(),
        }

    def summary(self) -> dict[str, Any]:
        """Return the run's JSON report (`shipyard monitor --json`)."""
        data: dict[str, Any] = json.loads(self.required_file(self.SUMMARY).read_text("utf-8"))
        return data

    def figures(self) -> pa.Table:
        """Return every window's figures, one row per window x column x measure."""
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.required_file(self.FIGURES)).read()

    def state(self) -> dict[str, Any]:
        """Return the state the monitor's next run starts from."""
        data: dict[str, Any] = json.loads(self.required_file(self.STATE).read_text("utf-8"))
        return data

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.SUMMARY).is_file():
            return super().preview()
        summary = self.summary()
        return {
            "monitor": summary.get("monitor"),
            "windows": [
                {key: window[key] for key in ("start", "end", "complete", "rows")}
                | {"findings": [f"{f['kind']} {f['column']}" for f in window["findings"]]}
                for window in summary.get("windows", [])[-10:]
            ],
            "alerts_firing": [
                f"{a['labels']['kind']} {a['labels']['column']}"
                for a in summary.get("alerts", {}).get("firing", [])
            ],
            "files": self.files(),
        }


def _micros(times: pa.ChunkedArray) -> list[int]:
    import pyarrow as pa

    return [int(value) for value in times.cast(pa.int64()).to_pylist()]


def figures_table(rows: Iterable[FigureRow]) -> pa.Table:
    """Return figures as the Parquet table of `windows.parquet`."""
    import numpy as np
    import pyarrow as pa

    starts, ends, complete, columns, measures, values = [], [], [], [], [], []
    for start, end, done, column, measure, value in rows:
        starts.append(start)
        ends.append(end)
        complete.append(done)
        columns.append(column)
        measures.append(measure)
        values.append(value)
    moment = pa.timestamp("us", tz="UTC")
    numbers = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    known = np.asarray([v is not None for v in values], dtype=bool)
    return pa.table(  # through buffers: PyArrow's own conversions import pandas
        {
            "window_start": from_numpy(np.asarray(starts, dtype=np.int64)).cast(moment),
            "window_end": from_numpy(np.asarray(ends, dtype=np.int64)).cast(moment),
            "complete": from_numpy(np.asarray(complete, dtype=bool)),
            "column": strings(columns),
            "measure": strings(measures),
            "value": from_numpy(numbers, valid=known),
        }
    )
