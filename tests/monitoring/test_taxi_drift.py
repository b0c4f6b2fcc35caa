"""Real data with a known shift: the taxi spans of `examples/taxi`, span 2 against span 1.

Span 2 has longer trips (`distance` x 1.6), a company span 1 never had in 10% of the rows
and `local` missing in 20% (`examples/taxi/make_spans.py`); tip, dow, month and hour are
the real trips' and must not be flagged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts.schema import read_schema_file
from shipyard.components.ingest import load_dataset
from shipyard.monitoring.monitor import MonitorOptions
from tests.monitoring.logs import T0
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from shipyard.runners import Project

TAXI = Path(__file__).resolve().parents[2] / "examples" / "taxi"


@pytest.mark.parametrize("with_schema", [False, True])
def test_span_2_is_flagged_where_it_was_changed_and_nowhere_else(
    tmp_path: Path, project: Project, with_schema: bool
) -> None:
    for span in (1, 2):
        table = load_dataset(TAXI / "data" / f"span-{span}" / "taxi.csv")
        times = pa.array(np.full(table.num_rows, T0), pa.timestamp("us", tz="UTC"))
        pq.write_table(table.append_column("timestamp", times), tmp_path / f"{span}.parquet")
    options = MonitorOptions(
        logs=str(tmp_path / "2.parquet"),
        name="taxi",
        reference=str(tmp_path / "1.parquet"),
        schema=read_schema_file(TAXI / "schema.yaml") if with_schema else None,
        min_rows=100,
    )
    (window,) = monitored(options, project).windows
    found = {(f.column, f.kind) for f in window.findings}
    if with_schema:  # the schema's own drift check, domain and presence
        assert found == {("distance", "drift"), ("company", "out_of_range"), ("local", "missing")}
    else:
        assert found == {("distance", "drift"), ("company", "unseen"), ("local", "missing")}
    unchanged = {"dow", "month", "hour"} | (set() if with_schema else {"tip"})
    assert {n: c.drift for n, c in window.columns.items() if n in unchanged} == {
        name: pytest.approx(0.0, abs=0.05) for name in unchanged
    }
