"""Dataset statistics (what TFDV's DatasetFeatureStatistics holds) and their artifact.

The values are plain frozen dataclasses with a JSON codec: `Statistics` stores one
`<split>.json` file per split. Everything that computes statistics lives in
`shipyard.components.statistics`; everything here only holds and (de)serialises them.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError, NotFoundError

FeatureType = Literal[
    "int", "float", "string", "bool", "timestamp", "date", "list", "binary", "struct"
]
"""The logical type of a column. Categorical integers stay "int" (the schema may say otherwise)."""

HistogramKind = Literal["equal_width", "quantiles"]

T = TypeVar("T")


@dataclass(frozen=True)
class Histogram:
    """Counts of values per bucket: `counts[i]` values lie in `[edges[i], edges[i + 1])`.

    The last bucket includes its upper edge. An equal-width histogram has equally spaced
    edges; a quantiles histogram has (about) equal counts per bucket.
    """

    kind: HistogramKind
    edges: list[float]
    counts: list[float]


@dataclass(frozen=True)
class NumericStatistics:
    """Statistics of the non-missing, finite values of a numeric column.

    Attributes:
        quantiles: The values at probabilities 0, 0.1, ..., 1.0 (11 points).
        nan: NaN values (not counted as missing, not included in the other figures).
        infinite: +inf and -inf values (excluded from mean and std).
    """

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    median: float | None
    zeros: int
    nan: int
    infinite: int
    quantiles: list[float]
    histogram: Histogram
    quantile_histogram: Histogram


@dataclass(frozen=True)
class ValueCount:
    """One value of a string or categorical column and how often it occurs (weighted)."""

    value: str
    count: float


@dataclass(frozen=True)
class StringStatistics:
    """Statistics of a string (or bool) column.

    Attributes:
        distinct: Distinct non-missing values.
        top_values: The most frequent values, most frequent first; all of them when
            `distinct` is at most `MAX_TOP_VALUES`, so domains can be checked exactly.
        avg_length: Mean length in characters.
        numbers: Values that read as numbers (`42`, `-1.5e3`): a column typed as a
            number by the schema is text in the data when words are among them.
        integers: Those of them that read as integers.
        non_numbers: When some values are numbers, the most frequent values that are not
            (at most `MAX_NON_NUMBERS`), most frequent first: what a schema expecting
            numbers reports.
    """

    distinct: int
    top_values: list[ValueCount]
    avg_length: float
    numbers: float = 0.0
    integers: float = 0.0
    non_numbers: list[ValueCount] = field(default_factory=list)

    MAX_TOP_VALUES: typing.ClassVar[int] = 1000
    MAX_NON_NUMBERS: typing.ClassVar[int] = 5


@dataclass(frozen=True)
class ListStatistics:
    """Statistics of the lengths of a list column's values."""

    min_length: int
    max_length: int
    avg_length: float


@dataclass(frozen=True)
class FeatureStatistics:
    """Statistics of one column. `count + missing` is the number of rows.

    Exactly one of `numeric`, `string` and `lists` is set, by type (none for struct/binary).
    The `weighted_*` figures are present when statistics were computed with a weight column.
    """

    name: str
    type: FeatureType
    count: int
    missing: int
    numeric: NumericStatistics | None = None
    string: StringStatistics | None = None
    lists: ListStatistics | None = None
    weighted_count: float | None = None
    weighted_numeric: NumericStatistics | None = None
    weighted_string: StringStatistics | None = None

    @property
    def missing_fraction(self) -> float:
        total = self.count + self.missing
        return self.missing / total if total else 0.0


@dataclass(frozen=True)
class DatasetStatistics:
    """Statistics of one split (or one slice of it).

    Attributes:
        num_rows: Rows in the split.
        features: Per column, in column order.
        weighted_num_rows: Sum of the weight column, when one was given.
        slices: Statistics of slices, keyed `"column=value"`, when slicing was requested.
    """

    num_rows: int
    features: dict[str, FeatureStatistics]
    weighted_num_rows: float | None = None
    slices: dict[str, DatasetStatistics] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetStatistics:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return _build(cls, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed statistics: {exc}") from exc


class Statistics(Artifact):
    """Statistics of every split of a dataset: `<split>.json` per split, and `report.html`
    (the splits side by side, as `shipyard stats --html` writes it).

    Example:
        >>> statistics.save({"train": train_stats, "eval": eval_stats})
        >>> statistics.load()["train"].features["fare"].numeric.mean
    """

    @property
    def splits(self) -> list[str]:
        """The split names, sorted."""
        return sorted(path.stem for path in self.path.glob("*.json"))

    HTML_FILENAME = "report.html"

    def save(self, value: dict[str, DatasetStatistics]) -> None:
        """Write the statistics of each split, and the report of every split written."""
        from shipyard.artifacts.statistics_report import render_report

        self.path.mkdir(parents=True, exist_ok=True)
        for split, stats in value.items():
            (self.path / f"{split}.json").write_text(json.dumps(stats.to_json(), allow_nan=False))
        self.properties["splits"] = sorted(set(self.properties.get("splits", [])) | set(value))
        datasets = self.load()
        page = render_report(datasets, title=f"Statistics of the splits {', '.join(datasets)}")
        (self.path / self.HTML_FILENAME).write_text(page, encoding="utf-8")

    def load(self) -> dict[str, DatasetStatistics]:
        """Read the statistics of every split."""
        return {split: self.read(split) for split in self.splits}

    def read(self, split: str) -> DatasetStatistics:
        """Read one split's statistics.

        Raises:
            NotFoundError: There are no statistics for that split.
        """
        path = self.path / f"{split}.json"
        if not path.is_file():
            raise NotFoundError(
                f"{self.uri}: no statistics for split {split!r}; "
                f"the splits are {', '.join(self.splits) or 'none'}."
            )
        return DatasetStatistics.from_json(json.loads(path.read_text()))

    def _preview_html(self) -> str:
        """Render the splits side by side, as the statistics report does (for notebooks)."""
        from shipyard.artifacts.statistics_report import render_fragment

        return render_fragment(self.load()) if self.splits else ""

    def preview(self) -> dict[str, Any]:
        preview: dict[str, Any] = {}
        for split in self.splits:
            stats = self.read(split)
            preview[split] = {
                "rows": stats.num_rows,
                "features": {
                    name: {"type": f.type, "missing": f.missing_fraction}
                    for name, f in stats.features.items()
                },
            }
        return preview


def _build(cls: type[T], data: Any) -> T:
    """Construct a dataclass (recursively) from its `dataclasses.asdict` form."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        if item.name in data:
            kwargs[item.name] = _convert(hints[item.name], data[item.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)  # type: ignore[arg-type]
    if origin is list:
        return [_convert(args[0], item) for item in value]
    if origin is dict:
        return {key: _convert(args[1], item) for key, item in value.items()}
    return value
