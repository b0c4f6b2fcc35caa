"""The model evaluation report: one self-contained HTML page, inline CSS and SVG only.

Headline metrics (undefined ones with the reason), ROC and PR curves and a reliability
diagram as inline SVG, the confusion matrix as a shaded table, the residual histogram for
regression, and the slices sorted worst first with the worst one and every slice below the
overall value highlighted. Nothing is fetched from the network and there is no script.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.evaluation import (
    format_metric,
    metric_direction,
    primary_metric,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shipyard.artifacts.evaluation import BlessingDecision, EvaluationResult

_SIZE = 240
_PAD = 34
_STYLE = """
.sy-eval { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 13px;
  color: #1f2937; }
.sy-eval h1 { font-size: 20px; margin: 0 0 8px; }
.sy-eval h2 { font-size: 16px; margin: 20px 0 6px; }
.sy-eval table { border-collapse: collapse; margin-bottom: 8px; }
.sy-eval th, .sy-eval td { padding: 3px 8px; border-bottom: 1px solid #e5e7eb;
  text-align: right; }
.sy-eval th { background: #f3f4f6; font-weight: 600; }
.sy-eval td.name, .sy-eval th.name { text-align: left; }
.sy-eval td.why { color: #6b7280; text-align: left; font-style: italic; }
.sy-eval tr.below td { background: #fef3c7; }
.sy-eval tr.worst td { background: #fecaca; font-weight: 600; }
.sy-eval .badge { color: #fff; background: #b91c1c; border-radius: 3px; padding: 0 4px;
  margin-left: 6px; font-size: 11px; }
.sy-eval .charts svg { margin-right: 16px; }
.sy-eval p.ok { color: #1b5e20; } .sy-eval p.fail { color: #b00020; }
"""


def render_report(result: EvaluationResult, *, title: str = "Model evaluation") -> str:
    """Return a standalone HTML page of an evaluation.

    Example:
        >>> Path("report.html").write_text(render_report(evaluation.load()))
    """
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"{render_fragment(result, title=title)}</body></html>\n"
    )


def render_fragment(result: EvaluationResult, *, title: str = "") -> str:
    """Return the report as one `<div>` with its own styles, for a page or a notebook."""
    overall = result.overall
    split = f" on split {html.escape(result.split)}" if result.split else ""
    parts = [
        f"<div class='sy-eval'><style>{_STYLE}</style>",
        f"<h1>{html.escape(title)}</h1>" if title else "",
        f"<p>{html.escape(result.task)} task, {overall.get('count', 0):,} rows{split}.</p>",
        "<h2>Metrics</h2>",
        _metrics_table(overall),
        _charts(overall),
    ]
    matrix = overall.get("confusion_matrix")
    if matrix:
        parts += ["<h2>Confusion matrix</h2>", _confusion_table(matrix)]
    if result.slices:
        parts += ["<h2>Slices</h2>", _slices_table(result)]
    parts.append("</div>")
    return "".join(parts)


def render_blessing(decision: BlessingDecision) -> str:
    """Return a blessing decision as an HTML fragment: the verdict and a table of checks."""
    verdict = "ok" if decision.blessed else "fail"
    rows = "".join(
        f"<tr class='{'' if check.passed else 'worst'}'><td class='name'>"
        f"{html.escape(check.metric)}</td><td>{check.kind}</td>"
        f"<td>{format_metric(check.value)}</td><td>{format_metric(check.bound)}</td>"
        f"<td>{'pass' if check.passed else 'FAIL'}</td>"
        f"<td class='why'>{html.escape(check.reason)}</td></tr>"
        for check in decision.checks
    )
    head = "".join(f"<th>{h}</th>" for h in ("metric", "check", "value", "bound", "", "why"))
    return (
        f"<div class='sy-eval'><style>{_STYLE}</style>"
        f"<p class='{verdict}'>{html.escape(decision.summary())}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _metrics_table(overall: dict[str, Any]) -> str:
    undefined = overall.get("undefined", {})
    rows = "".join(
        f"<tr><td class='name'>{html.escape(name)}</td><td>{format_metric(value)}</td>"
        f"<td class='why'>{html.escape(undefined.get(name, '')) if value is None else ''}</td></tr>"
        for name, value in overall.get("metrics", {}).items()
    )
    return (
        "<table><thead><tr><th class='name'>metric</th><th>value</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _charts(overall: dict[str, Any]) -> str:
    charts = []
    metrics = overall.get("metrics", {})
    roc = overall.get("curves", {}).get("roc")
    if roc and roc["fpr"]:
        charts.append(
            _line_chart(
                f"ROC curve (AUC {format_metric(metrics.get('auc'))})",
                "false positive rate",
                "true positive rate",
                roc["fpr"],
                roc["tpr"],
                diagonal=True,
            )
        )
    pr = overall.get("curves", {}).get("pr")
    if pr and pr["recall"]:
        charts.append(
            _line_chart(
                f"Precision-recall curve (AP {format_metric(metrics.get('pr_auc'))})",
                "recall",
                "precision",
                pr["recall"],
                pr["precision"],
            )
        )
    buckets = overall.get("calibration", {}).get("buckets")
    if buckets:
        charts.append(
            _line_chart(
                "Calibration",
                "mean predicted",
                "observed",
                [b["mean_predicted"] for b in buckets],
                [b["observed"] for b in buckets],
                diagonal=True,
                dots=True,
            )
        )
    residuals = overall.get("residuals")
    if residuals:
        charts.append(_histogram(residuals["histogram"]))
    return f"<div class='charts'>{''.join(charts)}</div>" if charts else ""


def _xy(x: float, y: float, x_min: float = 0.0, x_max: float = 1.0) -> str:
    span = (x_max - x_min) or 1.0
    px = _PAD + (x - x_min) / span * (_SIZE - _PAD - 8)
    py = _SIZE - _PAD - y * (_SIZE - _PAD - 8)
    return f"{px:.1f},{py:.1f}"


def _frame(title: str, x_label: str, y_label: str, body: str) -> str:
    low, high = _xy(0, 0).split(","), _xy(1, 1).split(",")
    return (
        f"<svg width='{_SIZE}' height='{_SIZE + 18}' "
        f"role='img' aria-label='{html.escape(title)}'>"
        f"<text x='{_SIZE / 2}' y='12' text-anchor='middle' font-size='12' font-weight='600'>"
        f"{html.escape(title)}</text><g transform='translate(0,14)'>"
        f"<rect x='{low[0]}' y='{high[1]}' width='{float(high[0]) - float(low[0]):.1f}' "
        f"height='{float(low[1]) - float(high[1]):.1f}' fill='none' stroke='#9ca3af'/>"
        f"{body}"
        f"<text x='{_SIZE / 2}' y='{_SIZE - 6}' text-anchor='middle' font-size='11'>"
        f"{html.escape(x_label)}</text>"
        f"<text x='10' y='{_SIZE / 2}' text-anchor='middle' font-size='11' "
        f"transform='rotate(-90 10 {_SIZE / 2})'>{html.escape(y_label)}</text></g></svg>"
    )


def _line_chart(
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    diagonal: bool = False,
    dots: bool = False,
) -> str:
    body = ""
    if diagonal:
        body += (
            f"<polyline points='{_xy(0, 0)} {_xy(1, 1)}' fill='none' stroke='#d1d5db' "
            "stroke-dasharray='4 3'/>"
        )
    points = " ".join(_xy(x, y) for x, y in zip(xs, ys, strict=True))
    body += f"<polyline points='{points}' fill='none' stroke='#2563eb' stroke-width='2'/>"
    if dots:
        body += "".join(
            f"<circle cx='{p.split(',')[0]}' cy='{p.split(',')[1]}' r='3' fill='#2563eb'/>"
            for p in points.split()
        )
    return _frame(title, x_label, y_label, body)


def _histogram(histogram: dict[str, Any]) -> str:
    edges, counts = histogram["edges"], histogram["counts"]
    top = max(counts) or 1
    bars = []
    for low, high, count in zip(edges, edges[1:], counts, strict=False):
        x0, y0 = _xy(low, count / top, edges[0], edges[-1]).split(",")
        x1, y1 = _xy(high, 0, edges[0], edges[-1]).split(",")
        bars.append(
            f"<rect x='{x0}' y='{y0}' width='{float(x1) - float(x0):.1f}' "
            f"height='{float(y1) - float(y0):.1f}' fill='#2563eb' stroke='#fff'>"
            f"<title>[{low:.4g}, {high:.4g}): {count:,}</title></rect>"
        )
    label = f"residual (label - prediction), {edges[0]:.3g} to {edges[-1]:.3g}"
    return _frame("Residuals", label, "count", "".join(bars))


def _confusion_table(matrix: dict[str, Any]) -> str:
    labels = [html.escape(str(label)) for label in matrix["labels"]]
    head = "<th class='name'>actual \\ predicted</th>" + "".join(f"<th>{x}</th>" for x in labels)
    rows = []
    for label, counts in zip(labels, matrix["matrix"], strict=True):
        total = sum(counts) or 1
        cells = "".join(
            f"<td style='background: rgba(37, 99, 235, {0.08 + 0.6 * count / total:.2f})' "
            f"title='{100 * count / total:.1f}% of actual {label}'>{count:,}</td>"
            for count in counts
        )
        rows.append(f"<tr><th class='name'>{label}</th>{cells}</tr>")
    return (
        f"<table class='confusion'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _slices_table(result: EvaluationResult) -> str:
    metric = primary_metric(result.task)
    overall_value = result.metrics.get(metric)
    higher = metric_direction(metric) != "lower"
    ranked = result.worst_slices(metric)
    others = [s for s in result.slices if s not in ranked]
    columns = [metric, *(name for name in result.metrics if name != metric)][:6]
    head = "<th class='name'>slice</th><th>count</th>" + "".join(
        f"<th>{html.escape(c)}</th>" for c in columns
    )
    rows = []
    for index, entry in enumerate(ranked):
        value = entry["metrics"][metric]
        below = overall_value is not None and (
            value < overall_value if higher else value > overall_value
        )
        css = "worst" if index == 0 else "below" if below else ""
        badge = "<span class='badge'>worst</span>" if index == 0 else ""
        cells = "".join(f"<td>{format_metric(entry['metrics'].get(c))}</td>" for c in columns)
        rows.append(
            f"<tr class='{css}'><td class='name'>{html.escape(entry['name'])}{badge}</td>"
            f"<td>{entry['count']:,}</td>{cells}</tr>"
        )
    for entry in others:
        why = entry.get("skipped") or entry.get("undefined", {}).get(metric, "")
        rows.append(
            f"<tr><td class='name'>{html.escape(entry['name'])}</td><td>{entry['count']:,}</td>"
            f"<td class='why' colspan='{len(columns)}'>{html.escape(why)}</td></tr>"
        )
    note = (
        f"<p>Sorted by {html.escape(metric)}, worst first; overall {format_metric(overall_value)}."
        " Highlighted: the worst slice and slices below the overall value.</p>"
    )
    return (
        f"{note}<table class='slices'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
