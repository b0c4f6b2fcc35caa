"""Reading the YAML form of a `DataSchema`, checked, with every problem's line and field.

Parsing walks PyYAML's node tree rather than the loaded objects, so every problem names the
line and the field it is in, duplicate keys are caught, and domain values are read as the
text written (`yes` stays the string "yes").
"""

from __future__ import annotations

import difflib
import math
import typing
from typing import TYPE_CHECKING, Any, cast

from shipyard.artifacts.anomalies import ANOMALY_KINDS, SEVERITIES, AnomalyKind, Severity
from shipyard.artifacts.schema import (
    SCHEMA_VERSION,
    CheckSwitch,
    Comparator,
    ComparatorName,
    DataSchema,
    FeatureSchema,
    NumericRange,
    ValueCountRange,
)
from shipyard.artifacts.statistics import FeatureType
from shipyard.errors import DataError

if TYPE_CHECKING:
    from yaml.nodes import Node, ScalarNode

FEATURE_TYPES: tuple[str, ...] = typing.get_args(FeatureType)
COMPARATORS: tuple[str, ...] = typing.get_args(ComparatorName)
TOP_FIELDS = (
    "version",
    "environments",
    "default_environment",
    "skew",
    "drift",
    "severity",
    "features",
)
FEATURE_FIELDS = (
    "type",
    "presence",
    "domain",
    "range",
    "value_count",
    "not_in",
    "skew",
    "drift",
    "severity",
)
NUMERIC_TYPES = ("int", "float")
DOMAIN_TYPES = ("string",)
HELP = (
    "A schema is a mapping with `features:` (each feature: type, presence, domain, range, "
    "value_count, not_in, skew, drift, severity); see the comments `shipyard schema DATA` writes."
)


def parse_schema(text: str, *, source: str) -> DataSchema:
    """Parse and check the YAML form of a schema.

    Raises:
        DataError: The text is not YAML, or not a valid schema: every problem is listed
            with its line and field.
    """
    import yaml

    try:
        # libyaml when PyYAML has it: a tenth of the pure-Python parser's time, the same marks
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DataError(
            f"{where}not valid YAML: {exc.problem or exc.context}.",
            path=source,
            hint="Check the indentation and quote values that contain ': ' or start with '['.",
        ) from exc
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", path=source) from exc
    reader = _Reader()
    schema = reader.schema(root)
    if reader.problems:
        problems = [text for _, text in sorted(reader.problems, key=lambda item: item[0])]
        message = (
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} problems in the schema:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
        raise DataError(message, path=source, hint=HELP)
    assert schema is not None
    return schema


class _Reader:
    """Builds a `DataSchema` from YAML nodes, collecting every problem with its line."""

    def __init__(self) -> None:
        from yaml.constructor import SafeConstructor

        self.problems: list[tuple[int, str]] = []
        self._constructor = SafeConstructor()

    def problem(self, node: Node, field: str, message: str) -> None:
        line = node.start_mark.line + 1
        self.problems.append((line, f"line {line}, field {field!r}: {message}"))

    def schema(self, root: Node | None) -> DataSchema | None:
        if root is None:
            self.problems.append((1, "line 1: the file is empty; a schema needs `features:`."))
            return None
        top = self.mapping(root, "(top level)", TOP_FIELDS, "a schema")
        if top is None:
            return None
        version = SCHEMA_VERSION
        if "version" in top and self.value(top["version"]) != SCHEMA_VERSION:
            self.problem(
                top["version"],
                "version",
                f"unsupported version {self.value(top['version'])!r}; this Shipyard reads "
                f"version {SCHEMA_VERSION}.",
            )
        environments: tuple[str, ...] = ()
        if "environments" in top:
            environments = self.names(top["environments"], "environments") or ()
        default = None
        if "default_environment" in top:
            node = top["default_environment"]
            default = self.text(node, "default_environment")
            if default is not None and default not in environments:
                self.problem(
                    node,
                    "default_environment",
                    f"{default!r} is not one of the environments "
                    f"({', '.join(environments) or 'none are listed'}).",
                )
        features: dict[str, FeatureSchema] = {}
        if "features" not in top:
            self.problems.append((1, "line 1: the schema has no `features:` mapping."))
        else:
            listed = self.mapping(top["features"], "features", None, "the features")
            for name, node in (listed or {}).items():
                feature = self.feature(name, node, environments)
                if feature is not None:
                    features[name] = feature
        return DataSchema(
            features=features,
            environments=environments,
            default_environment=default,
            skew=self.default_comparator(top.get("skew"), "skew"),
            drift=self.default_comparator(top.get("drift"), "drift"),
            severity=self.severity(top.get("severity"), "severity"),
            version=version,
        )

    def feature(self, name: str, node: Node, environments: tuple[str, ...]) -> FeatureSchema | None:
        where = f"features.{name}"
        fields = self.mapping(node, where, FEATURE_FIELDS, "a feature")
        if fields is None:
            return None
        feature_type = None
        if "type" not in fields:
            if self.complete(node, fields):
                self.problem(node, where, f"no `type`; give one of {', '.join(FEATURE_TYPES)}.")
        else:
            feature_type = self.choice(fields["type"], f"{where}.type", FEATURE_TYPES)
        not_in: tuple[str, ...] = ()
        if "not_in" in fields:
            not_in = self.names(fields["not_in"], f"{where}.not_in") or ()
            unknown = [env for env in not_in if env not in environments]
            if unknown:
                self.problem(
                    fields["not_in"],
                    f"{where}.not_in",
                    f"unknown environment {unknown[0]!r}; the schema's environments are "
                    f"{', '.join(environments) or 'none (list them under `environments:`)'}.",
                )
        feature = FeatureSchema(
            name=name,
            type=cast("FeatureType", feature_type),
            min_fraction=self.presence(fields.get("presence"), f"{where}.presence"),
            domain=self.domain(fields.get("domain"), f"{where}.domain", feature_type),
            range=self.range(fields.get("range"), f"{where}.range", feature_type),
            value_count=self.value_count(
                fields.get("value_count"), f"{where}.value_count", feature_type
            ),
            not_in=not_in,
            skew=self.feature_comparator(fields.get("skew"), f"{where}.skew"),
            drift=self.feature_comparator(fields.get("drift"), f"{where}.drift"),
            severity=self.severity(fields.get("severity"), f"{where}.severity"),
        )
        return None if feature_type is None else feature

    def presence(self, node: Node | None, where: str) -> float:
        if node is None:
            return 0.0
        raw = self.raw(node)
        if raw == "required":
            return 1.0
        if raw == "optional":
            return 0.0
        if raw is not None:
            self.problem(
                node, where, f"got {raw!r}; use required, optional or {{min_fraction: F}}."
            )
            return 0.0
        fields = self.mapping(node, where, ("min_fraction",), "a presence")
        if fields is None:
            return 0.0
        if "min_fraction" not in fields:
            if self.complete(node, fields):
                self.problem(node, where, "give `min_fraction`, a number from 0 to 1.")
            return 0.0
        fraction = self.number(fields["min_fraction"], f"{where}.min_fraction", 0.0, 1.0)
        return 0.0 if fraction is None else fraction

    def domain(
        self, node: Node | None, where: str, feature_type: str | None
    ) -> tuple[str, ...] | None:
        if node is None:
            return None
        if feature_type is not None and feature_type not in DOMAIN_TYPES:
            hint = "; use `range` for numbers" if feature_type in NUMERIC_TYPES else ""
            self.problem(
                node, where, f"a domain applies to string features, not {feature_type}{hint}."
            )
            return None
        values = self.names(node, where, what="values")
        if values is not None and len(set(values)) != len(values):
            repeated = sorted({v for v in values if values.count(v) > 1})
            self.problem(node, where, f"{repeated[0]!r} is listed twice; list each value once.")
        return values

    def range(self, node: Node | None, where: str, feature_type: str | None) -> NumericRange | None:
        if node is None:
            return None
        if feature_type is not None and feature_type not in NUMERIC_TYPES:
            hint = "; use `domain` for strings" if feature_type in DOMAIN_TYPES else ""
            self.problem(
                node, where, f"a range applies to int and float features, not {feature_type}{hint}."
            )
            return None
        fields = self.mapping(node, where, ("min", "max"), "a range")
        if fields is None:
            return None
        low = self.number(fields["min"], f"{where}.min") if "min" in fields else None
        high = self.number(fields["max"], f"{where}.max") if "max" in fields else None
        if low is not None and high is not None and low > high:
            self.problem(node, where, f"min ({low}) is greater than max ({high}).")
        return NumericRange(low, high)

    def value_count(
        self, node: Node | None, where: str, feature_type: str | None
    ) -> ValueCountRange | None:
        if node is None:
            return None
        if feature_type is not None and feature_type != "list":
            self.problem(
                node, where, f"a value_count applies to list features, not {feature_type}."
            )
            return None
        fields = self.mapping(node, where, ("min", "max"), "a value_count")
        if fields is None:
            return None
        low = self.integer(fields["min"], f"{where}.min") if "min" in fields else 0
        high = self.integer(fields["max"], f"{where}.max") if "max" in fields else None
        if low is not None and high is not None and low > high:
            self.problem(node, where, f"min ({low}) is greater than max ({high}).")
        return ValueCountRange(low or 0, high)

    def default_comparator(self, node: Node | None, where: str) -> Comparator | None:
        found = self.feature_comparator(node, where)
        return None if found == "off" else found

    def feature_comparator(self, node: Node | None, where: str) -> Comparator | CheckSwitch | None:
        if node is None:
            return None
        raw = self.raw(node)
        if raw == "off":
            return "off"
        if raw is not None:
            self.problem(node, where, f"got {raw!r}; use off or {{comparator: C, threshold: T}}.")
            return None
        fields = self.mapping(node, where, ("comparator", "threshold"), "a comparator")
        if fields is None:
            return None
        name = None
        if "comparator" in fields:
            name = self.choice(fields["comparator"], f"{where}.comparator", COMPARATORS)
        if "threshold" not in fields:
            if self.complete(node, fields):
                self.problem(node, where, "give `threshold`, a number from 0 to 1.")
            return None
        threshold = self.number(fields["threshold"], f"{where}.threshold", 0.0, 1.0)
        if threshold is None:
            return None
        return Comparator(threshold=threshold, comparator=cast("ComparatorName | None", name))

    def severity(self, node: Node | None, where: str) -> dict[AnomalyKind, Severity]:
        if node is None:
            return {}
        fields = self.mapping(node, where, ANOMALY_KINDS, "a severity mapping")
        result: dict[AnomalyKind, Severity] = {}
        for kind, value in (fields or {}).items():
            level = self.choice(value, f"{where}.{kind}", SEVERITIES)
            if level is not None:
                result[cast("AnomalyKind", kind)] = cast("Severity", level)
        return result

    # -- node helpers -----------------------------------------------------------------

    def mapping(
        self, node: Node, where: str, allowed: tuple[str, ...] | None, what: str
    ) -> dict[str, Node] | None:
        from yaml.nodes import MappingNode, ScalarNode

        if not isinstance(node, MappingNode):
            self.problem(
                node, where, f"expected {what} (a mapping of `key: value`), got {self.shown(node)}."
            )
            return None
        result: dict[str, Node] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.problem(key, where, "keys must be plain names.")
                continue
            name = key.value
            field = name if where == "(top level)" else f"{where}.{name}"
            if name in result:
                self.problem(key, field, f"{name!r} is given twice; give each key once.")
                continue
            if allowed is not None and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                suggestion = f" Did you mean {close[0]!r}?" if close else ""
                self.problem(
                    key,
                    field,
                    f"unknown field in {what}; valid fields are {', '.join(allowed)}.{suggestion}",
                )
                continue
            result[name] = value
        return result

    def complete(self, node: Node, fields: dict[str, Node]) -> bool:
        """Whether every key of a mapping was valid: a missing key is then worth a problem."""
        return len(cast("list[Any]", node.value)) == len(fields)

    def value(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def raw(self, node: Node) -> str | None:
        """The text of a plain scalar, or None for a mapping or sequence."""
        from yaml.nodes import ScalarNode

        return node.value if isinstance(node, ScalarNode) else None

    def shown(self, node: Node) -> str:
        from yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        if node.tag == "tag:yaml.org,2002:null":
            return "nothing"
        return repr(cast("ScalarNode", node).value)

    def text(self, node: Node, where: str) -> str | None:
        raw = self.raw(node)
        if raw is None or raw == "":
            self.problem(node, where, f"expected a name, got {self.shown(node)}.")
            return None
        return raw

    def names(self, node: Node, where: str, *, what: str = "names") -> tuple[str, ...] | None:
        from yaml.nodes import SequenceNode

        if not isinstance(node, SequenceNode):
            self.problem(
                node, where, f"expected a list of {what} like [A, B], got {self.shown(node)}."
            )
            return None
        values = [self.text(item, where) for item in node.value]
        return tuple(v for v in values if v is not None)

    def choice(self, node: Node, where: str, choices: tuple[str, ...]) -> str | None:
        raw = self.raw(node)
        if raw in choices:
            return raw
        close = difflib.get_close_matches(raw or "", choices, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        self.problem(
            node,
            where,
            f"got {self.shown(node)}; valid values are {', '.join(choices)}.{suggestion}",
        )
        return None

    def number(
        self, node: Node, where: str, low: float | None = None, high: float | None = None
    ) -> float | None:
        value = self.value(node) if self.raw(node) is not None else None
        bounds = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.problem(node, where, f"expected a number{bounds}, got {self.shown(node)}.")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(node, where, f"expected a number{bounds}, got {value!r}.")
            return None
        return float(value)

    def integer(self, node: Node, where: str) -> int | None:
        value = self.value(node) if self.raw(node) is not None else None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(node, where, f"expected a whole number >= 0, got {self.shown(node)}.")
            return None
        return value
