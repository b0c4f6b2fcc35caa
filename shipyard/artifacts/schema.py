"""The data schema (what TFDV's Schema holds), its human-editable YAML form, and its artifact.

A `DataSchema` says what every feature must look like: its type, how often it may be
missing, its domain of strings, its numeric range, its list lengths, the environments it is
absent from, and how far it may drift or skew. It is inferred from statistics
(`shipyard.components.schema.infer_schema`), written as commented YAML a person curates, and
pinned with `import_schema`. Everything that checks data against it lives in
`shipyard.components.validate`.

The YAML form::

    version: 1
    environments: [TRAINING, SERVING]
    default_environment: TRAINING
    skew: {threshold: 0.1}       # every feature's default; `skew: off` turns it off
    drift: {threshold: 0.1}
    severity: {out_of_range: error}
    features:
      species:
        type: string
        presence: required               # or optional, or {min_fraction: 0.9}
        domain: [Adelie, Chinstrap, Gentoo]
        not_in: [SERVING]
        skew: {comparator: linf, threshold: 0.05}
      body_mass_g:
        type: float
        presence: {min_fraction: 0.87}
        range: {min: 2700.0, max: 6300.0}
        drift: off
      tags:
        type: list
        value_count: {min: 1, max: 3}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.artifacts.anomalies import AnomalyKind, Severity
    from shipyard.artifacts.statistics import FeatureType

ComparatorName = Literal["linf", "jensen_shannon", "psi", "wasserstein"]
"""`linf`: the largest difference in any value's (or bin's) share, in [0, 1].
`jensen_shannon`: the Jensen-Shannon divergence in bits, in [0, 1].
`psi`: the population stability index over the reference's decile bins, from 0 up.
`wasserstein`: the Wasserstein distance over the reference's inner decile bins, in units
of the reference's standard deviation, from 0 up."""

CheckSwitch = Literal["off"]

TRAINING = "TRAINING"
SERVING = "SERVING"
SCHEMA_VERSION = 1
TIME_TYPES = ("timestamp", "date")


@dataclass(frozen=True)
class Comparator:
    """How far two distributions of one feature may be apart (skew or drift).

    Attributes:
        threshold: The largest distance that is not an anomaly.
        comparator: The distance; None picks by type: `linf` for strings and bools,
            `wasserstein` for numbers (`shipyard.components.drift.default_comparator`).
    """

    threshold: float
    comparator: ComparatorName | None = None


@dataclass(frozen=True)
class NumericRange:
    """The closed interval numeric values must lie in; either bound may be open (None)."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ValueCountRange:
    """How many values each list of a list feature may hold (both bounds inclusive)."""

    min: int = 0
    max: int | None = None


@dataclass(frozen=True)
class FeatureSchema:
    """What one feature must look like.

    Attributes:
        name: The column's name.
        type: Its logical type (as statistics report it). A float feature also accepts ints.
        min_fraction: The smallest share of rows in which it must be present; 1.0 means
            required, 0.0 (the default) optional.
        domain: The strings it may take (string features), or None for any.
        range: The interval its values must lie in (int and float features), or None.
        value_count: How long its lists may be (list features), or None.
        not_in: The environments it is absent from (a label is not in `SERVING`).
        skew: Its train/eval skew check: None uses the schema's default, "off" turns it off.
        drift: Its span-to-span drift check, likewise.
        severity: Overrides of the severity of its anomalies, by kind.
    """

    name: str
    type: FeatureType
    min_fraction: float = 0.0
    domain: tuple[str, ...] | None = None
    range: NumericRange | None = None
    value_count: ValueCountRange | None = None
    not_in: tuple[str, ...] = ()
    skew: Comparator | CheckSwitch | None = None
    drift: Comparator | CheckSwitch | None = None
    severity: Mapping[AnomalyKind, Severity] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        """Whether the feature must be present in every row."""
        return self.min_fraction >= 1.0


@dataclass(frozen=True)
class DataSchema:
    """What a dataset must look like: its features and the checks that apply to all of them.

    Attributes:
        features: By name, in column order.
        environments: The environments the data is validated in (`TRAINING`, `SERVING`).
        default_environment: The one used when validation names none.
        skew: The default skew check of every feature (but timestamps and dates), or None.
        drift: The default drift check of every feature (but timestamps and dates), or None.
        severity: Overrides of the default severity of each anomaly kind.
        version: The file format's version.

    Example:
        >>> schema = DataSchema.from_yaml(Path("schema.yaml").read_text(), source="schema.yaml")
        >>> [f.name for f in schema.features_in("SERVING")]
    """

    features: dict[str, FeatureSchema]
    environments: tuple[str, ...] = (TRAINING, SERVING)
    default_environment: str | None = TRAINING
    skew: Comparator | None = None
    drift: Comparator | None = None
    severity: Mapping[AnomalyKind, Severity] = field(default_factory=dict)
    version: int = SCHEMA_VERSION

    def features_in(self, environment: str | None) -> list[FeatureSchema]:
        """Return the features expected in `environment` (None: every feature)."""
        return [f for f in self.features.values() if environment not in f.not_in]

    def comparator(
        self, feature: FeatureSchema, check: Literal["skew", "drift"]
    ) -> Comparator | None:
        """Return the comparator that applies to `feature` for `check`, or None for none.

        Timestamps and dates move on from span to span by nature: the schema's defaults do
        not apply to them, only a comparator of their own.
        """
        own = feature.skew if check == "skew" else feature.drift
        if own == "off":
            return None
        if own is not None:
            return own
        if feature.type in TIME_TYPES:
            return None
        return self.skew if check == "skew" else self.drift

    def severity_of(self, kind: AnomalyKind, feature: FeatureSchema | None = None) -> Severity:
        """Return an anomaly's severity: the feature's override, the schema's, or the default.

        Skew and drift found with a feature's own comparator are errors by default; with the
        schema's default comparator, warnings.
        """
        from shipyard.artifacts.anomalies import DEFAULT_SEVERITY

        if feature is not None and kind in feature.severity:
            return feature.severity[kind]
        if kind in self.severity:
            return self.severity[kind]
        if feature is not None and kind in ("skew", "drift"):
            own = feature.skew if kind == "skew" else feature.drift
            if isinstance(own, Comparator):
                return "error"
        return DEFAULT_SEVERITY[kind]

    def to_yaml(self, *, header: str | None = None) -> str:
        """Return the schema as commented YAML; `header` becomes leading comment lines."""
        from shipyard.artifacts._schema_writer import dump_schema

        return dump_schema(self, header=header)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<schema>") -> DataSchema:
        """Parse the YAML form.

        Args:
            text: The YAML document.
            source: Where it came from, for error messages (a file name).

        Raises:
            DataError: The document is not valid YAML or not a valid schema; the message
                lists every problem with its line and field, and what is valid there.
        """
        from shipyard.artifacts._schema_reader import parse_schema

        return parse_schema(text, source=source)


def read_schema_file(path: str | Path) -> DataSchema:
    """Read and check a schema YAML file.

    Raises:
        NotFoundError: The file does not exist.
        DataError: It is not a valid schema (the message names the lines and fields).
    """
    return DataSchema.from_yaml(_read_text(path), source=str(path))


def _read_text(path: str | Path) -> str:
    file = Path(path)
    if not file.is_file():
        raise NotFoundError(
            f"Schema file {str(file)!r} does not exist. Write one with "
            f"`shipyard schema DATA > {file.name}`, or fix the path."
        )
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not a UTF-8 text file ({exc.reason} at byte {exc.start}).", path=str(file)
        ) from exc


class Schema(Artifact):
    """A data schema, stored as `schema.yaml` (the same YAML a person edits).

    Example:
        >>> schema.save(data_schema)
        >>> schema.load().features["species"].domain
    """

    FILENAME = "schema.yaml"

    def save(self, value: DataSchema, *, header: str | None = None) -> None:
        """Write the schema as YAML (`header` as leading comments); record its size."""
        self._write(value, value.to_yaml(header=header))

    def import_file(self, path: str | Path) -> DataSchema:
        """Check a curated schema file and store it verbatim, comments included.

        Raises:
            NotFoundError: The file does not exist.
            DataError: It is not a valid schema.
        """
        text = _read_text(path)
        value = DataSchema.from_yaml(text, source=str(path))
        self._write(value, text)
        self.properties["source"] = str(path)
        return value

    def load(self) -> DataSchema:
        """Read the schema back."""
        file = self.required_file(self.FILENAME)
        return DataSchema.from_yaml(file.read_text(encoding="utf-8"), source=str(file))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        value = self.load()
        return {
            "environments": list(value.environments),
            "features": {
                name: _feature_summary(value, feature) for name, feature in value.features.items()
            },
        }

    def _write(self, value: DataSchema, text: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / self.FILENAME).write_text(text, encoding="utf-8")
        self.properties["features"] = len(value.features)
        self.properties["environments"] = list(value.environments)

    def _preview_html(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(name)}</td>"
            + "".join(f"<td>{html.escape(str(v))}</td>" for v in summary.values())
            + "</tr>"
            for name, summary in self.preview().get("features", {}).items()
        )
        head = "".join(
            f"<th>{c}</th>"
            for c in ("feature", "type", "presence", "domain or range", "not in", "skew", "drift")
        )
        return f"<table><tr>{head}</tr>{rows}</table>" if rows else ""


def _feature_summary(schema: DataSchema, feature: FeatureSchema) -> dict[str, str]:
    presence = "required" if feature.required else f">= {feature.min_fraction:.0%}"
    constraint = ""
    if feature.domain is not None:
        shown = ", ".join(feature.domain[:10])
        constraint = shown + (f" (+{len(feature.domain) - 10})" if len(feature.domain) > 10 else "")
    elif feature.range is not None:
        constraint = f"[{feature.range.min}, {feature.range.max}]"
    elif feature.value_count is not None:
        constraint = f"{feature.value_count.min} to {feature.value_count.max} values"
    return {
        "type": feature.type,
        "presence": presence,
        "constraint": constraint,
        "not_in": ", ".join(feature.not_in),
        "skew": _check_summary(schema, feature, "skew"),
        "drift": _check_summary(schema, feature, "drift"),
    }


def _check_summary(
    schema: DataSchema, feature: FeatureSchema, check: Literal["skew", "drift"]
) -> str:
    """The check that applies, as `linf <= 0.05`, or `off`; `by type` when the comparator is
    chosen by the feature's type, `(schema)` when the schema's default applies."""
    comparator = schema.comparator(feature, check)
    if comparator is None:
        return "off"
    own = feature.skew if check == "skew" else feature.drift
    source = "" if isinstance(own, Comparator) else " (schema)"
    return f"{comparator.comparator or 'by type'} <= {comparator.threshold:g}{source}"
