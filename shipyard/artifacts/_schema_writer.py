"""Writing a `DataSchema` as YAML for people: one block per feature, small mappings inline."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.artifacts.schema import Comparator, DataSchema, FeatureSchema

FLOW_DOMAIN_SIZE = 8


def dump_schema(schema: DataSchema, *, header: str | None = None) -> str:
    """Return `schema` as YAML, one block per feature, small mappings on one line."""
    lines = [f"# {text}".rstrip() for text in (header or "").splitlines()]
    lines.append(f"version: {schema.version}")
    lines.append(f"environments: {_flow(list(schema.environments))}")
    if schema.default_environment is not None:
        lines.append(f"default_environment: {_flow(schema.default_environment)}")
    for check in ("skew", "drift"):
        comparator = schema.skew if check == "skew" else schema.drift
        if comparator is not None:
            lines.append(f"{check}: {_flow(_comparator_json(comparator))}")
    if schema.severity:
        lines.append(f"severity: {_flow(dict(schema.severity))}")
    if not schema.features:
        lines.append("features: {}")
    else:
        lines.append("features:")
    for feature in schema.features.values():
        lines.append(f"  {_flow(feature.name)}:")
        lines.extend(f"    {line}" for line in _feature_lines(feature))
    return "\n".join(lines) + "\n"


def _feature_lines(feature: FeatureSchema) -> list[str]:
    lines = [f"type: {feature.type}"]
    if feature.required:
        lines.append("presence: required")
    elif feature.min_fraction <= 0:
        lines.append("presence: optional")
    else:
        lines.append(f"presence: {{min_fraction: {_flow(feature.min_fraction)}}}")
    if feature.domain is not None:
        if len(feature.domain) <= FLOW_DOMAIN_SIZE:
            lines.append(f"domain: {_flow(list(feature.domain))}")
        else:
            lines.append("domain:")
            lines.extend(f"  - {_flow(value)}" for value in feature.domain)
    if feature.range is not None:
        bounds = {"min": feature.range.min, "max": feature.range.max}
        shown = {k: _number(v, feature.type) for k, v in bounds.items() if v is not None}
        lines.append(f"range: {_flow(shown)}")
    if feature.value_count is not None:
        counts: dict[str, int] = {"min": feature.value_count.min}
        if feature.value_count.max is not None:
            counts["max"] = feature.value_count.max
        lines.append(f"value_count: {_flow(counts)}")
    if feature.not_in:
        lines.append(f"not_in: {_flow(list(feature.not_in))}")
    for check in ("skew", "drift"):
        own = feature.skew if check == "skew" else feature.drift
        if own == "off":
            lines.append(f"{check}: off")
        elif own is not None:
            lines.append(f"{check}: {_flow(_comparator_json(own))}")
    if feature.severity:
        lines.append(f"severity: {_flow(dict(feature.severity))}")
    return lines


def _number(value: float, feature_type: str) -> float | int:
    if feature_type == "int" and float(value).is_integer():
        return int(value)
    return value


def _comparator_json(comparator: Comparator) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if comparator.comparator is not None:
        data["comparator"] = comparator.comparator
    data["threshold"] = comparator.threshold
    return data


def _flow(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(
        value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()
