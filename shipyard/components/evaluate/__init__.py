"""Model evaluation as a library: metrics, metrics per slice, and the blessing decision.

What TFX's Evaluator and TFMA compute, from plain arrays or Arrow columns:
`compute_metrics` (classification and regression metrics, curves, calibration, confusion
matrix, residuals), `slice_metrics` (the same per feature value or numeric bucket) and
`decide_blessing` (absolute thresholds and the allowed regression vs a baseline). Their
results go into the `ModelEvaluation` and `ModelBlessing` artifacts. Like every component
package this may not import runners, engines or the store; names load lazily, so importing
it imports no NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.components.evaluate.blessing import decide_blessing
    from shipyard.components.evaluate.component import evaluate
    from shipyard.components.evaluate.metrics import compute_metrics
    from shipyard.components.evaluate.slices import SliceSpec, slice_metrics

_EXPORTS = {
    "compute_metrics": "shipyard.components.evaluate.metrics",
    "slice_metrics": "shipyard.components.evaluate.slices",
    "SliceSpec": "shipyard.components.evaluate.slices",
    "decide_blessing": "shipyard.components.evaluate.blessing",
    "evaluate": "shipyard.components.evaluate.component",
}

__all__ = ["SliceSpec", "compute_metrics", "decide_blessing", "evaluate", "slice_metrics"]


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
