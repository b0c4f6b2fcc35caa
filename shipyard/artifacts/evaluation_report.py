"""The model evaluation report: one self-contained HTML page, inline CSS and SVG only.

What was evaluated (the model, its version in the metadata store, the task, the positive
class, the split and the rows left out), the blessing decision with every check, the
metrics beside the baseline's with the change, ROC and PR curves and a reliability diagram
(classification) or predicted-vs-actual, residual-vs-predicted and residual histogram plots
(regression), the confusion matrix as a shaded table, and the slices sorted worst first with
the worst one and every slice below the overall value highlighted. Nothing is fetched from
the network and there is no script.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.evaluation import (
    format_metric,
    metric_direction,
    primary_metric,
)
from shipyard.artifacts.evaluation_charts import charts

if TYPE_CHECKING:
    from shipyard.artifacts.evaluation import BlessingDecision, EvaluationResult

STYLE = """
.sy-eval { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 13px;
  color: #1f2937; max-width: 100%; }
.sy-eval h1 { font-size: 20px; margin: 0 0 8px; overflow-wrap: anywhere; }
.sy-eval h2 { font-size: 16px; margin: 20px 0 6px; }
.sy-eval table { border-collapse: collapse; margin-bottom: 8px; max-width: 100%; }
.sy-eval th, .sy-eval td { padding: 3px 8px; border-bottom: 1px solid #e5e7eb;
  text-align: right; }
.sy-eval th { background: #f3f4f6; font-weight: 600; }
.sy-eval td.name, .sy-eval th.name { text-align: left; overflow-wrap: anywhere; }
.sy-eval table.about th { text-align: left; background: none; color: #6b7280;
  font-weight: 400; }
.sy-eval table.about td { text-align: left; overflow-wrap: anywhere; }
.sy-eval td.why { color: #6b7280; text-align: left; font-style: italic;
  overflow-wrap: anywhere; }
.sy-eval td.better { color: #166534; } .sy-eval td.worse { color: #b91c1c; }
.sy-eval tr.below td { background: #fef3c7; }
.sy-eval tr.worst td { background: #fecaca; font-weight: 600; }
.sy-eval .badge { color: #fff; background: #b91c1c; border-radius: 3px; padding: 0 4px;
  margin-left: 6px; font-size: 11px; }
.sy-eval .charts { display: flex; flex-wrap: wrap; gap: 12px; }
.sy-eval .charts svg { flex: 0 1 280px; }
.sy-eval p.ok, .sy-eval p.fail { font-size: 15px; font-weight: 600; }
.sy-eval p.ok { color: #166534; } .sy-eval p.fail { color: #b91c1c; }
"""
"""The reports' stylesheet, for the `sy-eval` class: this one and the monitoring report."""


def render_report(
    result: EvaluationResult,
    *,
    title: str = "Model evaluation",
    blessing: BlessingDecision | None = None,
) -> str:
    """Return a standalone HTML page of an evaluation, and of its blessing when given.

    Args:
        result: The evaluation.
        title: The page's title.
        blessing: The blessing decided from this evaluation: its verdict and every check
            are shown first.

    Example:
        >>> Path("report.html").write_text(render_report(evaluation.load(), blessing=decision))
    """
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"{render_fragment(result, title=title, blessing=blessing)}</body></html>\n"
    )


def render_fragment(
    result: EvaluationResult, *, title: str = "", blessing: BlessingDecision | None = None
) -> str:
    """Return the report as one `<div>` with its own styles, for a page or a notebook."""
    overall = result.overall
    drawn = charts(overall)
    parts = [
        f"<div class='sy-eval'><style>{STYLE}</style>",
        f"<h1>{html.escape(title)}</h1>" if title else "",
        _about(result),
    ]
    if blessing is not None:
        parts += ["<h2>Blessing</h2>", _blessing(blessing)]
    parts += ["<h2>Metrics</h2>", _metrics_table(overall)]
    if drawn:
        parts.append(f"<div class='charts'>{''.join(drawn)}</div>")
    matrix = overall.get("confusion_matrix")
    if matrix:
        parts += ["<h2>Confusion matrix</h2>", _confusion_table(matrix)]
    if result.slices:
        parts += ["<h2>Slices</h2>", _slices_table(result)]
    parts.append("</div>")
    return "".join(parts)


def render_blessing(decision: BlessingDecision) -> str:
    """Return a blessing decision as an HTML fragment: the verdict and a table of checks."""
    return f"<div class='sy-eval'><style>{STYLE}</style>{_blessing(decision)}</div>"


def _about(result: EvaluationResult) -> str:
    """Return what was evaluated: model, version, task, positive class, data, baseline."""
    overall = result.overall
    rows: list[tuple[str, str]] = []
    model = overall.get("model")
    if model:
        rows.append(("model", _model_name(model)))
        if model.get("id") is not None:
            rows.append(("version", f"{model['id']} in the metadata store (push numbers it)"))
    task = result.task or "unknown"
    positive = overall.get("positive_class")
    rows.append(("task", task + (f", positive class {positive!r}" if positive is not None else "")))
    if model and model.get("label"):
        rows.append(("label", str(model["label"])))
    data = f"{overall.get('count', 0):,} rows"
    if result.split:
        data += f" of the {result.split!r} split"
    excluded = {k: v for k, v in (overall.get("excluded") or {}).items() if v}
    if excluded:
        data += "; left out: " + ", ".join(
            f"{count:,} with {kind.replace('_', ' ')}" for kind, count in excluded.items()
        )
    rows.append(("evaluated on", data))
    baseline = overall.get("baseline")
    rows.append(
        ("baseline", _model_name(baseline) if baseline else "none: judged on its own metrics")
    )
    cells = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>" for key, value in rows
    )
    return f"<table class='about'><tbody>{cells}</tbody></table>"


def _model_name(model: dict[str, Any]) -> str:
    """`taxi/2026-01-05T12-03-ab12/train/model #12 (boosted_trees)`."""
    name = str(model.get("name") or model.get("uri") or "model")
    if model.get("id") is not None:
        name += f" #{model['id']}"
    return name + (f" ({model['estimator']})" if model.get("estimator") else "")


def _blessing(decision: BlessingDecision) -> str:
    verdict = "ok" if decision.blessed else "fail"
    rows = "".join(
        f"<tr class='{'' if check.passed else 'worst'}'><td class='name'>"
        f"{html.escape(check.metric)}</td><td>{check.kind}</td>"
        f"<td>{format_metric(check.value)}</td><td>{format_metric(check.bound)}</td>"
        f"<td>{format_metric(check.baseline) if check.kind == 'regression' else ''}</td>"
        f"<td>{'pass' if check.passed else 'FAIL'}</td>"
        f"<td class='why'>{html.escape(check.reason)}</td></tr>"
        for check in decision.checks
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("metric", "check", "value", "bound", "baseline", "", "why")
    )
    table = (
        f"<table class='checks'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        if decision.checks
        else "<p>No check was configured: every model is blessed.</p>"
    )
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in decision.notes)
    return f"<p class='{verdict}'>{html.escape(decision.summary())}</p>{table}" + (
        f"<ul class='notes'>{notes}</ul>" if notes else ""
    )


def _metrics_table(overall: dict[str, Any]) -> str:
    """Return the metrics, beside the baseline's and the change when there is a baseline."""
    undefined = overall.get("undefined", {})
    baseline = (overall.get("baseline") or {}).get("metrics")
    head = "<th class='name'>metric</th><th>value</th>"
    if baseline is not None:
        head += "<th>baseline</th><th>change</th>"
    rows = []
    for name, value in overall.get("metrics", {}).items():
        cells = f"<td class='name'>{html.escape(name)}</td><td>{format_metric(value)}</td>"
        if baseline is not None:
            cells += f"<td>{format_metric(baseline.get(name))}</td>{_change(name, value, baseline)}"
        why = html.escape(undefined.get(name, "")) if value is None else ""
        rows.append(f"<tr>{cells}<td class='why'>{why}</td></tr>")
    return (
        f"<table class='metrics'><thead><tr>{head}<th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _change(name: str, value: float | None, baseline: dict[str, Any]) -> str:
    old = baseline.get(name)
    if value is None or old is None:
        return "<td></td>"
    delta = value - old
    direction = metric_direction(name)
    css = ""
    if direction is not None and abs(delta) > 1e-12:
        better = delta > 0 if direction == "higher" else delta < 0
        css = " class='better'" if better else " class='worse'"
    return f"<td{css}>{delta:+.3g}</td>"


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
    flagged = result.flagged_slices(1, metric)  # the worst, if it is worse than overall
    rows = []
    for entry in ranked:
        value = entry["metrics"][metric]
        below = overall_value is not None and (
            value < overall_value if higher else value > overall_value
        )
        worst = entry in flagged
        css = "worst" if worst else "below" if below else ""
        badge = "<span class='badge'>worst</span>" if worst else ""
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
        " Highlighted: the worst slice and the slices below the overall value (none when"
        " every slice is as good as overall).</p>"
    )
    return (
        f"{note}<table class='slices'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
