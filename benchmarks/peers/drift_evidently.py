"""Evidently's data drift report, the peer of `shipyard monitor` in `benchmarks/monitoring.py`.

Runs in its own venv (`drift_peers.py`: Evidently 0.7.23, pandas<3) through `drift_window.py`:

    python -m peers.drift_evidently --reference REF.parquet --out DIR CURRENT.parquet [...]

Per window, `Report([DataDriftPreset()]).run(current, reference)` with the defaults (each
column's test chosen by Evidently from its type and size: on these sizes the normed
Wasserstein distance for numbers, the Jensen-Shannon distance for categories and small
integer counts, threshold 0.1) and `save_html`, the report Evidently's guide writes:
`DIR/NAME.html`. A column is flagged where its `ValueDrift` says drift, as Evidently's tests
decide it: a p-value under the threshold, a distance at or over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evidently import Report
from evidently.presets import DataDriftPreset

from peers.drift_window import run_peer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def check(reference: Any, current: Any) -> tuple[set[str], Callable[[Path], None]]:
    """Evidently's default drift report of `current` against `reference`, saved as HTML."""
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    flagged = set()
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        p_value = "p_value" in config["method"]
        value, threshold = metric["value"], config["threshold"]
        if (value < threshold) if p_value else (value >= threshold):
            flagged.add(config["column"])
    return flagged, lambda report: snapshot.save_html(str(report.with_suffix(".html")))


if __name__ == "__main__":
    from importlib.metadata import version

    run_peer(f"Evidently {version('evidently')}", check)
