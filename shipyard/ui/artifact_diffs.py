"""The compare page's artifact sections: schemas and evaluations diffed, statistics compared.

Built from `artifacts` of `runners.comparison.compare_runs` (see
`runners.artifact_comparison`); a row whose values differ between the runs is marked
*changed* and comes first. Statistics also get their charts overlaid, run over run, in a
frame: `/compare/statistics?runs=A,B&output=NODE/PORT`, the statistics report's page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from shipyard.ui.html import escape, link, number, url

if TYPE_CHECKING:
    from collections.abc import Callable


def render_artifact_diffs(compared: dict[str, Any], head: str, row: Callable[..., str]) -> str:
    """Each compared output's section; `head` and `row` draw tables as the page's others."""
    ids = [run["id"] for run in compared["runs"]]
    sections = []
    for output, entry in compared["artifacts"].items():
        links = " · ".join(link(f"/artifacts/{i}", f"#{i}") for i in entry["artifacts"])
        title = f"<h2>{escape(output)} <small>{escape(entry['type'])}</small></h2><p>{links}</p>"
        if "error" in entry:
            body = f"<p class=alert role=alert>{escape(entry['error'])}</p>"
        elif entry["type"] == "Schema":
            body = _schema(entry, head, row)
        elif entry["type"] == "ModelEvaluation":
            body = _evaluation(entry, head, row)
        else:
            body = _statistics(entry, head, row, ids, output)
        sections.append(f'<section class=artifact-diff data-output="{escape(output)}">{title}'
                        f"{body}</section>")  # fmt: skip
    return "".join(sections)


def _table(head: str, rows: str) -> str:
    return (
        "<div class=table-wrap><table class=side-by-side>"
        f"<thead><tr><th scope=col></th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _changed_first(names: list[str], changed: list[str]) -> list[str]:
    return [*changed, *(name for name in names if name not in changed)]


def _schema(entry: dict[str, Any], head: str, row: Callable[..., str]) -> str:
    features = entry["features"]
    changed = entry["changed"]
    rows = "".join(
        row(name, [_feature(summary) for summary in features[name]], changed=name in changed)
        for name in _changed_first(list(features), changed)
    )
    count = f"<p>{len(changed)} of {len(features)} features differ.</p>"
    return count + _table(head, rows)


def _feature(summary: dict[str, str] | None) -> str:
    if summary is None:
        return "<span class=muted>absent</span>"
    parts = [summary["type"], summary["presence"], summary["constraint"]]
    if summary.get("not_in"):
        parts.append(f"not in {summary['not_in']}")
    return escape(" · ".join(p for p in parts if p))


def _evaluation(entry: dict[str, Any], head: str, row: Callable[..., str]) -> str:
    metrics = "".join(
        row(name, _numbers(values), changed=_differs(values))
        for name, values in entry["metrics"].items()
    )
    slices = entry["slices"]
    changed = entry["changed_slices"]
    slice_rows = "".join(
        row(f"{name}: {metric}", _numbers(values), changed=_differs(values))
        for name in _changed_first(list(slices), changed)
        for metric, values in {"rows": slices[name]["count"], **slices[name]["metrics"]}.items()
    )
    shown = (
        f"<h3>Slices ({len(changed)} of {len(slices)} differ)</h3>{_table(head, slice_rows)}"
        if slices
        else "<p class=muted>No slices.</p>"
    )
    return f"<h3>Metrics</h3>{_table(head, metrics)}{shown}"


def _statistics(
    entry: dict[str, Any], head: str, row: Callable[..., str], ids: list[str], output: str
) -> str:
    parts = []
    for split, figures in entry["splits"].items():
        rows = row("rows", _numbers(figures["rows"]), changed=_differs(figures["rows"]))
        rows += "".join(
            row(f"{name}: {measure.replace('_', ' ')}", _numbers(values), changed=_differs(values))
            for name, measures in figures["features"].items()
            for measure, values in measures.items()
        )
        measures = [v for named in figures["features"].values() for v in named.values()]
        differ = sum(_differs(values) for values in measures)
        parts.append(
            f"<details class=split><summary>Split {escape(split)}: {differ} figures differ"
            f"</summary>{_table(head, rows)}</details>"
        )
    query = urlencode([*(("runs", i) for i in ids), ("output", output)])
    frame = f"/compare/statistics?{query}"
    charts = (
        f"<h3>Distributions overlaid</h3><p>{link(frame, 'Open in its own tab', target='_blank')}"
        f'</p><iframe class=report title="Statistics of {escape(output)}, run over run" '
        f'src="{escape(url(frame))}" loading=lazy></iframe>'
    )
    splits = "".join(parts) or "<p class=muted>No split in common.</p>"
    return splits + (charts if parts else "")


def _numbers(values: list[Any]) -> list[str]:
    return [
        "" if v is None else escape(number(v) if isinstance(v, float) else str(v)) for v in values
    ]


def _differs(values: list[Any]) -> bool:
    return any(value != values[0] for value in values)
