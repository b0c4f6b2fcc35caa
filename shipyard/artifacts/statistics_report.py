"""The statistics report: one self-contained HTML page comparing datasets (or splits).

What Facets Overview shows TFDV users, without a line of JavaScript or anything fetched from
the network: per feature a row per dataset (in the dataset's color) with its figures, the
missing fraction highlighted, and an inline SVG chart overlaying the datasets'
distributions. `render_report` makes the page; `render_fragment` the same content as one
`<div>` with scoped styles, for notebooks (`Statistics._repr_html_`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.artifacts.statistics_chart import PALETTE, feature_chart, render_svg, shorten_label

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics

TOP_VALUES_SHOWN = 3
NONE = "\N{EN DASH}"
"""What a cell shows for a figure that does not exist (the mean of no values)."""

_STYLE = """
.shipyard-stats { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  font-size: 13px; color: #1f2937; }
.shipyard-stats h1 { font-size: 20px; margin: 0 0 8px; }
.shipyard-stats h2 { font-size: 16px; margin: 20px 0 6px; }
.shipyard-stats table { border-collapse: collapse; margin-bottom: 8px; }
.shipyard-stats th, .shipyard-stats td { padding: 3px 8px; border-bottom: 1px solid #e5e7eb;
  text-align: right; vertical-align: middle; }
.shipyard-stats th { background: #f3f4f6; font-weight: 600; }
.shipyard-stats td.feature { text-align: left; font-weight: 600; }
.shipyard-stats td.dataset, .shipyard-stats td.text { text-align: left; }
.shipyard-stats td.chart { text-align: left; }
.shipyard-stats td.missing { color: #7f1d1d; font-weight: 600; }
.shipyard-stats td.absent { color: #9ca3af; font-style: italic; text-align: left; }
.shipyard-stats .swatch { display: inline-block; width: 10px; height: 10px;
  border-radius: 2px; margin-right: 6px; }
.shipyard-stats .legend span.item { margin-right: 16px; }
.shipyard-stats .type { color: #6b7280; font-weight: 400; font-size: 11px; }
"""


def render_report(datasets: Mapping[str, DatasetStatistics], *, title: str = "Statistics") -> str:
    """Return a standalone HTML page of the statistics of one or more datasets.

    Args:
        datasets: Statistics by dataset (or split) name, in the order to show them.
        title: The page's title.

    Example:
        >>> Path("report.html").write_text(render_report({"train": train, "eval": eval_}))
    """
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"{render_fragment(datasets, title=title)}</body></html>\n"
    )


def render_fragment(datasets: Mapping[str, DatasetStatistics], *, title: str = "") -> str:
    """Return the report as one `<div>` with its own styles, to embed in a page or notebook."""
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(datasets)}
    legend = "".join(
        f"<span class='item'>{_swatch(colors[name])}<b>{html.escape(name)}</b>: "
        f"{stats.num_rows:,} rows{_extras(stats)}</span>"
        for name, stats in datasets.items()
    )
    features: dict[str, str] = {}
    for stats in datasets.values():
        for name, feature in stats.features.items():
            features.setdefault(name, _section(feature))
    parts = [
        f"<div class='shipyard-stats'><style>{_STYLE}</style>",
        f"<h1>{html.escape(title)}</h1>" if title else "",
        f"<p class='legend'>{legend}</p>",
    ]
    for kind, section in _SECTIONS.items():
        names = [name for name, feature_kind in features.items() if feature_kind == kind]
        if names:
            parts.append(f"<h2>{section.heading} ({len(names)})</h2>")
            parts.append(_table(datasets, colors, names, section))
    if not features:
        parts.append("<p>No features.</p>")
    parts.append("</div>")
    return "".join(parts)


def format_number(value: float | None) -> str:
    """Format a statistic compactly: 4 significant digits, thousands separators for counts."""
    if value is None:
        return NONE
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def _extras(stats: DatasetStatistics) -> str:
    extras = ""
    if stats.weighted_num_rows is not None:
        extras += f", weight {format_number(stats.weighted_num_rows)}"
    if stats.slices:
        extras += f", {len(stats.slices)} slices"
    return extras


def _swatch(color: str) -> str:
    return f"<span class='swatch' style='background:{color}'></span>"


def _section(feature: FeatureStatistics) -> str:
    if feature.numeric is not None:
        return "numeric"
    if feature.string is not None:
        return "string"
    if feature.lists is not None:
        return "list"
    return "other"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else NONE


def _numeric_cells(feature: FeatureStatistics) -> list[str]:
    stats = feature.numeric
    if stats is None:
        return [NONE] * 7
    zeros = f"{stats.zeros:,} ({_percent(stats.zeros, feature.count)})" if stats.zeros else "0"
    return [
        format_number(stats.mean),
        format_number(stats.std),
        zeros,
        format_number(stats.min),
        format_number(stats.median),
        format_number(stats.max),
        f"{stats.nan:,} / {stats.infinite:,}",
    ]


def _string_cells(feature: FeatureStatistics) -> list[str]:
    stats = feature.string
    if stats is None:
        return [NONE] * 3
    top = ", ".join(
        f"{html.escape(shorten_label(item.value, 24))} ({_percent(item.count, feature.count)})"
        for item in stats.top_values[:TOP_VALUES_SHOWN]
    )
    return [f"{stats.distinct:,}", top or NONE, format_number(stats.avg_length)]


def _list_cells(feature: FeatureStatistics) -> list[str]:
    stats = feature.lists
    if stats is None:
        return [NONE] * 3
    return [f"{stats.min_length:,}", format_number(stats.avg_length), f"{stats.max_length:,}"]


def _other_cells(feature: FeatureStatistics) -> list[str]:
    return [feature.type]


@dataclass(frozen=True)
class _Section:
    heading: str
    columns: list[str]
    cells: Callable[[FeatureStatistics], list[str]]
    charted: bool = False
    text_columns: frozenset[str] = frozenset()


_SECTIONS = {
    "numeric": _Section(
        "Numeric features",
        ["mean", "std", "zeros", "min", "median", "max", "NaN / inf"],
        _numeric_cells,
        charted=True,
    ),
    "string": _Section(
        "Categorical features",
        ["distinct", "top values", "avg length"],
        _string_cells,
        charted=True,
        text_columns=frozenset({"top values"}),
    ),
    "list": _Section("List features", ["min length", "avg length", "max length"], _list_cells),
    "other": _Section("Other features", ["type"], _other_cells, text_columns=frozenset({"type"})),
}


def _table(
    datasets: Mapping[str, DatasetStatistics],
    colors: dict[str, str],
    names: list[str],
    section: _Section,
) -> str:
    columns, charted = section.columns, section.charted
    header = "".join(
        f"<th>{html.escape(c)}</th>"
        for c in ["feature", "dataset", "count", "missing", *columns, *(["chart"] * charted)]
    )
    rows = []
    span = len(datasets)
    for name in names:
        chart = feature_chart(datasets, name) if charted else None
        for index, (dataset, stats) in enumerate(datasets.items()):
            row = []
            if index == 0:
                kind = next(s.features[name].type for s in datasets.values() if name in s.features)
                row.append(
                    f"<td class='feature' rowspan='{span}'>{html.escape(name)}"
                    f"<br><span class='type'>{kind}</span></td>"
                )
            row.append(f"<td class='dataset'>{_swatch(colors[dataset])}{html.escape(dataset)}</td>")
            feature = stats.features.get(name)
            if feature is None:
                row.append(f"<td class='absent' colspan='{2 + len(columns)}'>absent</td>")
            else:
                row += [f"<td>{feature.count:,}</td>", _missing_cell(feature)]
                row += [
                    f"<td class='text'>{value}</td>"
                    if column in section.text_columns
                    else f"<td>{value}</td>"
                    for column, value in zip(columns, section.cells(feature), strict=True)
                ]
            if index == 0 and charted:
                svg = render_svg(chart) if chart is not None else ""
                row.append(f"<td class='chart' rowspan='{span}'>{svg}</td>")
            rows.append(f"<tr>{''.join(row)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _missing_cell(feature: FeatureStatistics) -> str:
    fraction = feature.missing_fraction
    text = f"{100 * fraction:.1f}%"
    if not feature.missing:
        return f"<td>{text}</td>"
    alpha = 0.15 + 0.6 * fraction
    return (
        f"<td class='missing' style='background: rgba(220, 38, 38, {alpha:.2f})' "
        f"title='{feature.missing:,} missing'>{text}</td>"
    )
