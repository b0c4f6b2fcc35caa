"""`shipyard stats DATA`: statistics of a data file, as a table, JSON, an HTML report or a PNG."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import FormatOption, JsonOption

if TYPE_CHECKING:
    from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics

EMPTY = '""'
"""How the table shows the empty string among top values."""


def stats_command(
    data: Annotated[
        Path, typer.Argument(metavar="DATA", help="A CSV, Parquet, JSON-lines or Arrow file.")
    ],
    compare: Annotated[
        Path | None,
        typer.Option("--compare", metavar="OTHER", help="Another file to compare DATA with."),
    ] = None,
    html_path: Annotated[
        Path | None,
        typer.Option(
            "--html", metavar="FILE", help="Write a self-contained HTML report to this file."
        ),
    ] = None,
    png_feature: Annotated[
        str | None,
        typer.Option("--png", metavar="FEATURE", help="Write FEATURE's chart as a PNG image."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where --png writes. Default: FEATURE.png"
        ),
    ] = None,
    weight: Annotated[
        str | None, typer.Option("--weight", metavar="COLUMN", help="A column of example weights.")
    ] = None,
    slices: Annotated[
        list[str] | None,
        typer.Option("--slice", metavar="COLUMN", help="Also summarize each value's rows."),
    ] = None,
    data_format: FormatOption = "auto",
    json_output: JsonOption = False,
) -> None:
    """Summarize a dataset per feature: counts, missing values, distributions, top values.

    Prints a table, or with --json the statistics keyed by dataset name. --html writes a
    report comparing DATA with --compare side by side; --png one feature's chart. With
    --slice, the table and the report also show each slice's size and statistics.
    """
    from shipyard.cli.output import console, print_json
    from shipyard.components.ingest import load_dataset
    from shipyard.components.statistics import compute_dataset_statistics

    paths = [data] if compare is None else [data, compare]
    datasets: dict[str, DatasetStatistics] = {}
    for name, path in zip(_names(paths), paths, strict=True):
        datasets[name] = compute_dataset_statistics(
            load_dataset(path, format=data_format), weight_column=weight, slice_columns=slices or ()
        )
    notices = console(stderr=True)
    if html_path is not None:
        from shipyard.artifacts.statistics_report import render_report

        title = "Statistics: " + " vs ".join(datasets)
        html_path.write_text(render_report(datasets, title=title), encoding="utf-8")
        notices.print(f"Wrote the report to {html_path}", markup=False)
    if png_feature is not None:
        target = output or Path(_file_name(png_feature) + ".png")
        target.write_bytes(_png(datasets, png_feature))
        notices.print(f"Wrote the chart of {png_feature!r} to {target}", markup=False)
    if json_output:
        print_json({name: stats.to_json() for name, stats in datasets.items()})
        return
    out = console()
    for name, stats in datasets.items():
        out.print(_table(name, stats))
        if stats.slices:
            out.print(_slices_table(name, stats))
            for key, part in stats.slices.items():
                out.print(_table(f"{name} [{key}]", part))


def _names(paths: list[Path]) -> list[str]:
    """Name datasets by file name, or by path when the names are the same."""
    names = [path.name for path in paths]
    if len(set(names)) < len(names):
        names = [str(path) for path in paths]
    if len(set(names)) < len(names):
        names = [f"{name} ({index + 1})" for index, name in enumerate(names)]
    return names


def _file_name(feature: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", feature).strip(".") or "chart"


def _png(datasets: dict[str, DatasetStatistics], feature: str) -> bytes:
    from shipyard.artifacts.statistics_chart import feature_chart, render_png
    from shipyard.errors import InvalidParameterError

    names = list(dict.fromkeys(name for stats in datasets.values() for name in stats.features))
    if feature not in names:
        raise InvalidParameterError(
            f"The --png option names no feature of the data: got {feature!r}; the features "
            f"are {', '.join(map(repr, names)) or 'none'}."
        )
    chart = feature_chart(datasets, feature)
    if chart is None:
        raise InvalidParameterError(
            f"The --png option names {feature!r}, which has nothing to chart: charts show "
            f"numeric and categorical features with values. Choose another feature."
        )
    return render_png(chart)


def _table(name: str, stats: DatasetStatistics) -> object:
    from rich.markup import escape
    from rich.table import Table

    from shipyard.artifacts.statistics_report import format_number

    extra = f", {format_number(stats.weighted_num_rows)} weight" if stats.weighted_num_rows else ""
    table = Table(
        title=f"{escape(name)}: {stats.num_rows:,} rows{extra}, {len(stats.features)} features",
        title_justify="left",
    )
    for column in ("feature", "type", "count", "missing"):
        table.add_column(column, justify="left" if column in ("feature", "type") else "right")
    for column in ("mean", "std", "min", "max", "distinct"):
        table.add_column(column, justify="right")
    table.add_column("top values")
    for feature in stats.features.values():
        missing = f"{100 * feature.missing_fraction:.1f}%"
        table.add_row(
            escape(feature.name),
            feature.type,
            f"{feature.count:,}",
            f"[red]{missing}[/]" if feature.missing else missing,
            *_summary(feature),
        )
    return table


def _slices_table(name: str, stats: DatasetStatistics) -> object:
    """Return each slice's size, largest first, before the slices' own tables."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{escape(name)}: {len(stats.slices)} slices", title_justify="left")
    table.add_column("slice")
    table.add_column("rows", justify="right")
    table.add_column("share of rows", justify="right")
    ordered = sorted(stats.slices.items(), key=lambda item: (-item[1].num_rows, item[0]))
    for key, part in ordered:
        share = f"{100 * part.num_rows / stats.num_rows:.1f}%" if stats.num_rows else ""
        table.add_row(escape(key), f"{part.num_rows:,}", share)
    return table


def _summary(feature: FeatureStatistics) -> list[str]:
    """Return the mean, std, min, max, distinct and top values cells of a feature."""
    from rich.markup import escape

    from shipyard.artifacts.statistics_report import format_number

    if feature.numeric is not None:
        n = feature.numeric
        cells = [format_number(v) for v in (n.mean, n.std, n.min, n.max)]
        return [*cells, "", ""]
    if feature.string is not None:
        top = ", ".join(
            f"{escape(item.value or EMPTY)} ({100 * item.count / feature.count:.0f}%)"
            for item in feature.string.top_values[:3]
        )
        return ["", "", "", "", f"{feature.string.distinct:,}", top]
    if feature.lists is not None:
        lists = feature.lists
        return [
            format_number(lists.avg_length),
            "",
            f"{lists.min_length:,}",
            f"{lists.max_length:,}",
            "",
            "lengths",
        ]
    return ["", "", "", "", "", ""]
