"""whylogs' drift report, the peer of `shipyard monitor` in `benchmarks/monitoring.py`.

Runs in its own venv (`drift_peers.py`: whylogs[viz] 1.6.4, numpy<2, pandas<3, pyarrow<21,
`WHYLOGS_NO_ANALYTICS` set) through `drift_window.py`:

    python -m peers.drift_whylogs --reference REF.parquet --out DIR CURRENT.parquet [...]

whylogs profiles each frame (`why.log(frame).view()`: sketches per column) and compares the
profiles: the reference is profiled once and its profile reused by every window, as a whylogs
user keeps a reference profile. Per window, the current frame's profile, the drift report
whylogs' guide renders (`NotebookProfileVisualizer.summary_drift_report`, written to
`DIR/NAME.html`) and `calculate_drift_scores` with its defaults (the KS test on the numbers'
sketches, chi-squared on frequent items); a column is flagged where its category is `DRIFT`
(p-value under 0.05; `POSSIBLE_DRIFT`, 0.05 to 0.15, is not counted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import whylogs as why
from whylogs.viz import NotebookProfileVisualizer
from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

from peers.drift_window import run_peer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_PROFILES: dict[int, Any] = {}


def check(reference: Any, current: Any) -> tuple[set[str], Callable[[Path], None]]:
    """whylogs' drift report of `current` against `reference`, written as HTML."""
    if id(reference) not in _PROFILES:
        _PROFILES[id(reference)] = why.log(reference).view()
    reference_view = _PROFILES[id(reference)]
    current_view = why.log(current).view()
    scores = calculate_drift_scores(
        target_view=current_view, reference_view=reference_view, with_thresholds=True
    )
    flagged = {
        name for name, score in scores.items() if score and score["drift_category"] == "DRIFT"
    }

    def write_report(report: Path) -> None:
        visualizer = NotebookProfileVisualizer()
        visualizer.set_profiles(
            target_profile_view=current_view, reference_profile_view=reference_view
        )
        report.with_suffix(".html").write_text(visualizer.summary_drift_report().data)

    return flagged, write_report


if __name__ == "__main__":
    from importlib.metadata import version

    run_peer(f"whylogs {version('whylogs')}", check)
