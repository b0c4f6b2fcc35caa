"""Infra validation (TFX's InfraValidator): whether a model serves, and its artifact.

`InfraValidation` says what `infra_validate` saw when it served the exported model in a
real `shipyard serve` process: how many requests it sent, how long they took, and every
problem (a server that did not start, an error answer, a malformed answer, a request over
the latency bound). `InfraBlessing` stores it as `infra_blessing.json` and records
`blessed` in its properties; `push` refuses a model whose infra blessing is not blessed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError


@dataclass(frozen=True)
class InfraValidation:
    """What serving a model for validation found.

    Attributes:
        blessed: True when the server started and every request got a well-formed answer
            within the latency bound.
        requests: The requests sent.
        rows: The rows they held.
        source: Where the rows came from (`request log DIR` or `eval split`).
        max_latency_ms: The bound each request had to meet.
        latencies_ms: `median`, `p95` and `max` request latencies seen (empty when the
            server did not answer).
        startup_s: Seconds from starting the server to its readiness (None if never ready).
        problems: What went wrong, at most `MAX_PROBLEMS` lines.
    """

    blessed: bool
    requests: int
    rows: int
    source: str
    max_latency_ms: float
    latencies_ms: dict[str, float]
    startup_s: float | None
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        """Return one line: `Infra blessed: ...` or `Not infra blessed: ...`."""
        if self.blessed:
            slowest = self.latencies_ms.get("max", 0.0)
            return (
                f"Infra blessed: {self.requests} requests from the {self.source} answered "
                f"well-formed, the slowest in {slowest:.1f} ms (bound {self.max_latency_ms:g} ms)."
            )
        more = "" if len(self.problems) <= 1 else f" (and {len(self.problems) - 1} more)"
        first = self.problems[0] if self.problems else "no reason recorded"
        return f"Not infra blessed: {first}{more}"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**asdict(self), "problems": list(self.problems)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InfraValidation:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return cls(**{**data, "problems": tuple(data.get("problems", ()))})
        except TypeError as exc:
            raise DataError(f"malformed infra blessing: {exc}") from exc


MAX_PROBLEMS = 10
"""Problems an `InfraValidation` keeps; one is enough to refuse the model."""


class InfraBlessing(Artifact):
    """Whether a model served well: `infra_blessing.json`; `blessed` in `properties`.

    Example:
        >>> infra.load().summary()
        'Infra blessed: 20 requests from the eval split answered well-formed, ...'
    """

    FILENAME = "infra_blessing.json"

    def save(self, value: InfraValidation) -> None:
        """Write the validation as JSON; record `blessed` and the summary in `properties`."""
        self.path.mkdir(parents=True, exist_ok=True)
        text = json.dumps(value.to_json(), indent=2, allow_nan=False)
        (self.path / self.FILENAME).write_text(text, encoding="utf-8")
        self.properties.update(blessed=value.blessed, summary=value.summary())

    def load(self) -> InfraValidation:
        """Read the validation back.

        Raises:
            NotFoundError: The artifact holds no validation.
        """
        file = self.required_file(self.FILENAME)
        return InfraValidation.from_json(json.loads(file.read_text(encoding="utf-8")))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        value = self.load()
        return {"summary": value.summary(), **value.to_json()}
