"""The statistics report: one self-contained HTML page comparing datasets (or splits).

What Facets Overview shows TFDV users, without a line of JavaScript or anything fetched from
the network: an index of every feature (linked to its row, missing values flagged), then per
feature a row per dataset (in the dataset's color) with its figures, the missing fraction
highlighted, and an inline SVG chart with axes overlaying the datasets' distributions. When
the statistics were sliced, each dataset's slices follow, compared the same way, in a
section that opens on a click. The page fits the window's width however many features
there are: long names wrap, charts scale down, and the column headers stay in view while
scrolling. `render_report` makes the page; `render_fragment` the same content as one `<div>`
with scoped styles, for notebooks (`Statistics._repr_html_`).
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
  font-size: 13px; color: #1f2937; max-width: 100%; }
.shipyard-stats h1 { font-size: 20px; margin: 0 0 8px; overflow-wrap: anywhere; }
.shipyard-stats h2 { font-size: 16px; margin: 20px 0 6px; }
.shipyard-stats table { border-collapse: collapse; margin-bottom: 8px; width: 100%; }
.shipyard-stats th, .shipyard-stats td { padding: 3px 6px; border-bottom: 1px solid #e5e7eb;
  text-align: right; vertical-align: middle; }
.shipyard-stats th { background: #f3f4f6; font-weight: 600; position: sticky; top: 0;
  z-index: 1; }
.shipyard-stats th.name { text-align: left; }
.shipyard-stats td.feature { text-align: left; font-weight: 600; overflow-wrap: anywhere;
  border-top: 2px solid #d1d5db; padding-top: 6px; }
.shipyard-stats td.dataset { text-align: left; min-width: 8em; max-width: 12em;
  overflow-wrap: anywhere; }
.shipyard-stats td.text { text-align: left; min-width: 8em; overflow-wrap: anywhere; }
.shipyard-stats td.chart { text-align: left; width: 30%; min-width: 160px;
  border-top: 2px solid #d1d5db; }
.shipyard-stats nav.index { display: flex; flex-wrap: wrap; gap: 4px 6px; margin: 4px 0 8px; }
.shipyard-stats nav.index a { padding: 1px 6px; border: 1px solid #d1d5db; border-radius: 3px;
  color: #1f2937; text-decoration: none; overflow-wrap: anywhere; }
.shipyard-stats nav.index a.flagged { border-color: #dc2626; color: #7f1d1d; }
.shipyard-stats table.slices { width: auto; }
.shipyard-stats details { margin: 12px 0; }
@media (max-width: 1000px) {
  .shipyard-stats { font-size: 11px; }
  .shipyard-stats th, .shipyard-stats td { padding: 2px 3px; }
  .shipyard-stats td.dataset { min-width: 6em; }
  .shipyard-stats td.chart { min-width: 140px; }
}
.shipyard-stats summary { font-size: 15px; font-weight: 600; cursor: pointer; }
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
    features = _feature_kinds(datasets)
    anchors = {name: f"feature-{index}" for index, name in enumerate(features)}
    parts = [
        f"<div class='shipyard-stats'><style>{_STYLE}</style>",
        f"<h1>{html.escape(title)}</h1>" if title else "",
        _legend(datasets),
        _index(datasets, features, anchors) if features else "<p>No features.</p>",
        _sections(datasets, features, anchors),
        *(_slices(name, stats) for name, stats in datasets.items() if stats.slices),
        "</div>",
    ]
    return "".join(parts)


def _colors(datasets: Mapping[str, DatasetStatistics]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(datasets)}


def _legend(datasets: Mapping[str, DatasetStatistics]) -> str:
    colors = _colors(datasets)
    items = "".join(
        f"<span class='item'>{_swatch(colors[name])}<b>{html.escape(name)}</b>: "
        f"{stats.num_rows:,} rows{_extras(stats)}</span>"
        for name, stats in datasets.items()
    )
    return f"<p class='legend'>{items}</p>"


def _feature_kinds(datasets: Mapping[str, DatasetStatistics]) -> dict[str, str]:
    """Return every feature of any dataset (in first-seen order) and its report section."""
    kinds: dict[str, str] = {}
    for stats in datasets.values():
        for name, feature in stats.features.items():
            kinds.setdefault(name, _section(feature))
    return kinds


def _index(
    datasets: Mapping[str, DatasetStatistics], features: dict[str, str], anchors: dict[str, str]
) -> str:
    """Return a link to every feature's row; features with missing values are flagged."""
    links = []
    for section_kind, section in _SECTIONS.items():
        for name, kind in features.items():
            if kind != section_kind:
                continue
            missing = [
                f"{dataset} {100 * stats.features[name].missing_fraction:.1f}% missing"
                for dataset, stats in datasets.items()
                if name in stats.features and stats.features[name].missing
            ]
            tip = html.escape(f"{section.heading}: " + ("; ".join(missing) or "none missing"))
            flag = " class='flagged'" if missing else ""
            links.append(f"<a href='#{anchors[name]}'{flag} title='{tip}'>{html.escape(name)}</a>")
    flagged = sum(
        1
        for name in features
        if any(name in s.features and s.features[name].missing for s in datasets.values())
    )
    note = f", {flagged} with missing values (in red)" if flagged else ""
    return f"<h2>Features ({len(features)}{note})</h2><nav class='index'>{''.join(links)}</nav>"


def _sections(
    datasets: Mapping[str, DatasetStatistics],
    features: dict[str, str],
    anchors: dict[str, str] | None = None,
) -> str:
    parts = []
    for kind, section in _SECTIONS.items():
        names = [name for name, feature_kind in features.items() if feature_kind == kind]
        if names:
            parts.append(f"<h2>{section.heading} ({len(names)})</h2>")
            parts.append(_table(datasets, names, section, anchors or {}))
    return "".join(parts)


def _slices(dataset: str, stats: DatasetStatistics) -> str:
    """Return the slices of one dataset: their sizes, then their features compared."""
    rows = "".join(
        f"<tr><td class='dataset'>{html.escape(key)}</td><td>{part.num_rows:,}</td>"
        f"<td>{_percent(part.num_rows, stats.num_rows)}</td></tr>"
        for key, part in stats.slices.items()
    )
    columns = ", ".join(dict.fromkeys(key.split("=", 1)[0] for key in stats.slices))
    sizes = (
        "<table class='slices'><thead><tr><th class='name'>slice</th><th>rows</th>"
        f"<th>share of rows</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return (
        f"<details class='slices'><summary>Slices of {html.escape(dataset)}: "
        f"{len(stats.slices)} by {html.escape(columns)}</summary>{sizes}"
        f"{_legend(stats.slices)}{_sections(stats.slices, _feature_kinds(stats.slices))}"
        "</details>"
    )


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
    names: list[str],
    section: _Section,
    anchors: dict[str, str],
) -> str:
    """Return a section's table: per feature a heading row, then a row per dataset.

    The feature's name spans the figures' columns (long names never squeeze them), and its
    chart spans the feature's rows on the right.
    """
    columns, charted = section.columns, section.charted
    header = "".join(
        f"<th>{html.escape(c)}</th>"
        for c in ["dataset", "count", "missing", *columns, *(["chart"] * charted)]
    )
    rows = []
    width = 3 + len(columns)
    colors = _colors(datasets)
    for name in names:
        kind = next(s.features[name].type for s in datasets.values() if name in s.features)
        anchor = f" id='{anchors[name]}'" if name in anchors else ""
        chart = ""
        if charted:
            drawn = feature_chart(datasets, name)
            svg = render_svg(drawn) if drawn is not None else ""
            chart = f"<td class='chart' rowspan='{len(datasets) + 1}'>{svg}</td>"
        rows.append(
            f"<tr class='feature'><td class='feature' colspan='{width}'{anchor}>"
            f"{html.escape(name)} <span class='type'>{kind}</span></td>{chart}</tr>"
        )
        for dataset, stats in datasets.items():
            row = [
                f"<td class='dataset' style='border-left: 4px solid {colors[dataset]}'>"
                f"{html.escape(dataset)}</td>"
            ]
            feature = stats.features.get(name)
            if feature is None:
                row.append(f"<td class='absent' colspan='{width - 1}'>absent</td>")
            else:
                row += [f"<td>{feature.count:,}</td>", _missing_cell(feature)]
                row += [
                    f"<td class='text'>{value}</td>"
                    if column in section.text_columns
                    else f"<td>{value}</td>"
                    for column, value in zip(columns, section.cells(feature), strict=True)
                ]
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
