"""Anomalies: what validating statistics against a schema found, and their artifact.

`Anomaly` is one finding (a feature, a kind, a severity, a sentence saying what to do);
`AnomalyReport` is all of them for one validation, with a JSON codec and a self-contained
HTML page. The `Anomalies` artifact stores `anomalies.json` and `report.html`.
"""

from __future__ import annotations

import html
import json
import typing
from dataclasses import asdict, dataclass
from typing import Any, Literal

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError

AnomalyKind = Literal[
    "missing_column",
    "new_column",
    "wrong_type",
    "out_of_domain",
    "out_of_range",
    "too_many_missing",
    "wrong_value_count",
    "skew",
    "drift",
]
"""What is wrong. `skew` compares two splits of one dataset, `drift` a split with the same
split of a baseline (the previous span)."""

Severity = Literal["error", "warning"]
"""An `error` stops a pipeline whose validation has `on_anomaly="fail"` and fails
`shipyard validate`; a `warning` is reported only."""

ANOMALY_KINDS: tuple[AnomalyKind, ...] = typing.get_args(AnomalyKind)
SEVERITIES: tuple[Severity, ...] = typing.get_args(Severity)

DEFAULT_SEVERITY: dict[AnomalyKind, Severity] = {
    "missing_column": "error",
    "new_column": "error",
    "wrong_type": "error",
    "out_of_domain": "error",
    # An inferred range is the observed minimum and maximum of one split: other data
    # exceeds it often and harmlessly. Curate the range and raise it to "error".
    "out_of_range": "warning",
    "too_many_missing": "error",
    "wrong_value_count": "error",
    # The schema's default comparators apply to every feature, and small samples differ by
    # chance: their findings are warnings. A feature's own comparator makes them errors.
    "skew": "warning",
    "drift": "warning",
}

REPORT_VERSION = 1


@dataclass(frozen=True)
class Anomaly:
    """One way the data departs from its schema.

    Attributes:
        feature: The column.
        kind: What is wrong.
        severity: Whether it stops a pipeline (`error`) or is only reported (`warning`).
        description: A sentence saying what was found and what to do.
        split: The split it was found in (`"train vs eval"` for skew).
        fraction: The share of values concerned (missing, of the wrong type, out of
            domain, out of range).
        examples: Some offending values, most frequent first.
        value: The measured distance (skew, drift).
        threshold: The distance allowed (skew, drift).
        count: How many values are concerned (missing, of the wrong type, out of domain,
            out of range), of which `fraction` is the share.
    """

    feature: str
    kind: AnomalyKind
    severity: Severity
    description: str
    split: str | None = None
    fraction: float | None = None
    examples: tuple[str, ...] = ()
    value: float | None = None
    threshold: float | None = None
    count: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["examples"] = list(self.examples)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Anomaly:
        """Rebuild from `to_json` output."""
        return cls(**{**data, "examples": tuple(data.get("examples", ()))})

    def extent(self) -> str:
        """Return how many values are concerned: `3 (0.2%)`, `12.5%`, or "" when unknown."""
        share = "" if self.fraction is None else percent(self.fraction)
        if self.count is None:
            return share
        return f"{self.count:,} ({share})" if share else f"{self.count:,}"

    def line(self) -> str:
        """Return a one-line plain-text form: `[error] eval/island out_of_domain: ...`."""
        where = f"{self.split}/{self.feature}" if self.split else self.feature
        return f"[{self.severity}] {where} {self.kind}: {self.description}"


@dataclass(frozen=True)
class AnomalyReport:
    """Every anomaly found by one validation.

    Attributes:
        anomalies: In the order found: by split, then feature.
        environment: The environment the data was validated in.
        splits: The splits that were validated.

    Example:
        >>> report = validate_statistics(stats, schema)
        >>> [a.feature for a in report.errors]
    """

    anomalies: tuple[Anomaly, ...] = ()
    environment: str | None = None
    splits: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Anomaly]:
        """The anomalies of severity `error`."""
        return [a for a in self.anomalies if a.severity == "error"]

    @property
    def warnings(self) -> list[Anomaly]:
        """The anomalies of severity `warning`."""
        return [a for a in self.anomalies if a.severity == "warning"]

    def summary(self) -> str:
        """Return one line: `OK: no anomalies in train, eval.` or `2 errors, 1 warning ...`."""
        where = ", ".join(self.splits) or "the data"
        env = f" ({self.environment})" if self.environment else ""
        if not self.anomalies:
            return f"OK: no anomalies in {where}{env}."
        errors, warnings = len(self.errors), len(self.warnings)
        return (
            f"{errors} error{'s' * (errors != 1)} and {warnings} warning{'s' * (warnings != 1)} "
            f"in {where}{env}."
        )

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "version": REPORT_VERSION,
            "environment": self.environment,
            "splits": list(self.splits),
            "anomalies": [a.to_json() for a in self.anomalies],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnomalyReport:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return cls(
                anomalies=tuple(Anomaly.from_json(a) for a in data["anomalies"]),
                environment=data.get("environment"),
                splits=tuple(data.get("splits", ())),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"malformed anomaly report: {exc}") from exc

    def to_html(self, *, title: str = "Data validation report") -> str:
        """Return a self-contained HTML page (inline CSS, no scripts, works offline)."""
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_PAGE_CSS}{_CSS}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{self.html_fragment()}</body></html>\n"
        )

    def html_fragment(self) -> str:
        """Return the summary and the table of anomalies as an HTML fragment."""
        status = "ok" if not self.errors else "error"
        summary = f"<p class='sy-{status}'>{html.escape(self.summary())}</p>"
        if not self.anomalies:
            return f"<div class='sy-anomalies'>{summary}</div>"
        head = "".join(
            f"<th>{name}</th>"
            for name in (
                "split",
                "feature",
                "kind",
                "severity",
                "values",
                "description",
                "examples",
            )
        )
        rows = "".join(
            f"<tr class='sy-{a.severity}'><td>{html.escape(a.split or '')}</td>"
            f"<td><b>{html.escape(a.feature)}</b></td><td>{a.kind}</td>"
            f"<td class='sy-sev'>{a.severity}</td><td>{html.escape(a.extent())}</td>"
            f"<td>{html.escape(a.description)}</td>"
            f"<td>{html.escape(', '.join(a.examples))}</td></tr>"
            for a in self.anomalies
        )
        return (
            f"<div class='sy-anomalies'>{summary}<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


def percent(fraction: float) -> str:
    """Format a share with the decimals that keep a small one non-zero.

    Example:
        >>> percent(0.25), percent(1 / 150_000)
        ('25.0%', '0.0007%')
    """
    digits = 1
    while 0 < fraction * 100 < 10**-digits and digits < 6:
        digits += 1
    return f"{fraction:.{digits}%}"


_PAGE_CSS = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
_CSS = (  # scoped to the report's classes: it is also embedded in notebooks
    ".sy-anomalies table{border-collapse:collapse}"
    ".sy-anomalies th,.sy-anomalies td{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left;vertical-align:top}"
    ".sy-anomalies th{background:#f3f3f3}"
    "tr.sy-error .sy-sev{color:#b00020;font-weight:bold}"
    "tr.sy-warning .sy-sev{color:#a06000;font-weight:bold}"
    ".sy-anomalies p.sy-ok{color:#1b5e20}.sy-anomalies p.sy-error{color:#b00020}"
)


class Anomalies(Artifact):
    """The anomalies one validation found: `anomalies.json` and a `report.html` page.

    Example:
        >>> anomalies.save(report)
        >>> anomalies.load().errors
    """

    FILENAME = "anomalies.json"
    HTML_FILENAME = "report.html"

    def save(self, value: AnomalyReport) -> None:
        """Write the report as JSON and HTML; record the counts in `properties`."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / self.FILENAME).write_text(
            json.dumps(value.to_json(), indent=2, allow_nan=False), encoding="utf-8"
        )
        (self.path / self.HTML_FILENAME).write_text(value.to_html(), encoding="utf-8")
        self.properties.update(
            errors=len(value.errors),
            warnings=len(value.warnings),
            environment=value.environment,
        )

    def load(self) -> AnomalyReport:
        """Read the report back."""
        file = self.required_file(self.FILENAME)
        return AnomalyReport.from_json(json.loads(file.read_text(encoding="utf-8")))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        report = self.load()
        return {
            "summary": report.summary(),
            "anomalies": [a.to_json() for a in report.anomalies[:50]],
        }

    def _preview_html(self) -> str:
        if not (self.path / self.FILENAME).is_file():
            return ""
        return f"<style>{_CSS}</style>{self.load().html_fragment()}"
