"""NannyML's univariate drift, the peer of `shipyard monitor` in `benchmarks/monitoring.py`.

Runs in its own venv (`drift_peers.py`: NannyML 0.13.1 with statsmodels,
`NML_DISABLE_USAGE_LOGGING=1`) through `drift_window.py`:

    python -m peers.drift_nannyml --reference REF.parquet --out DIR CURRENT.parquet [...]

`UnivariateDriftCalculator(column_names=every column)` with its defaults (the Jensen-Shannon
distance for numbers and categories; each frame cut into 10 chunks; a chunk alerts where
its distance leaves the band the reference's chunks set), fitted once on the reference and
reused by every window, as NannyML's guide does. Per window, `calculate(current)` and the
drift plot the guide shows (`results.plot()`), written as `DIR/NAME.html`. A column is
flagged where any of the window's chunks alerts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nannyml as nml

from peers.drift_window import run_peer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_FITTED: dict[int, Any] = {}


def check(reference: Any, current: Any) -> tuple[set[str], Callable[[Path], None]]:
    """NannyML's univariate drift of `current` against `reference`, plotted as HTML."""
    if id(reference) not in _FITTED:
        calculator = nml.UnivariateDriftCalculator(column_names=list(reference.columns))
        _FITTED[id(reference)] = calculator.fit(reference)
    results = _FITTED[id(reference)].calculate(current)
    analysis = results.filter(period="analysis").to_df()
    flagged = set()
    for column, method, value in analysis.columns:
        if value == "alert" and analysis[(column, method, value)].any():
            flagged.add(column)
    return flagged, lambda report: results.plot().write_html(str(report.with_suffix(".html")))


if __name__ == "__main__":
    from importlib.metadata import version

    run_peer(f"NannyML {version('nannyml')}", check)
