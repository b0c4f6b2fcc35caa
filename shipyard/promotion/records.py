"""Promotion decisions, as `shipyard promote --json` prints them and the store keeps them.

Each decision that changed the labels (a promotion or a rollback) is recorded as a run of
the store's pipeline `promotion:MODEL`, whose properties hold the record: the versions,
the action, the reason, the figures compared and the policy. `shipyard runs list
--pipeline promotion:MODEL` lists them; `shipyard models` reads them back (a rolled-back
version is shown as rejected).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError

if TYPE_CHECKING:
    from shipyard.store import MetadataStore

RECORD_VERSION = 1


@dataclass(frozen=True)
class PromotionRecord:
    """One promotion decision.

    Attributes:
        model: The model's name.
        action: `promote`, `roll_back` or `wait`.
        reason: Why, with the figures compared.
        stable: The stable version before the decision.
        canary: The canary version.
        canary_percent: The canary's share of unlabeled requests.
        figures: `{"stable": {...}, "canary": {...}}` (`VersionFigures.to_json`).
        policy: The policy applied (`PromotionPolicy.to_json`).
        server: The server whose metrics were read.
        model_config: The model config file edited.
        decided_at: When, ISO 8601 UTC.
        run_id: The store run recording it (None for `wait`, which is not recorded).
    """

    model: str
    action: str
    reason: str
    stable: int | None
    canary: int
    canary_percent: float
    figures: dict[str, Any]
    policy: dict[str, Any]
    server: str
    model_config: str
    decided_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    run_id: str | None = None

    @property
    def decided(self) -> bool:
        """Whether the labels changed (a promotion or a rollback)."""
        return self.action != "wait"

    def to_json(self) -> dict[str, Any]:
        """Return the record as plain JSON: the one shape of `--json` and the store."""
        return {"version": RECORD_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromotionRecord:
        """Read what `to_json` wrote.

        Raises:
            DataError: The data is not such a record.
        """
        try:
            return cls(**{key: value for key, value in data.items() if key != "version"})
        except TypeError as exc:
            raise DataError(f"malformed promotion record: {exc}") from exc


def pipeline_name(model: str) -> str:
    """Return the name of the store's pipeline whose runs hold a model's decisions."""
    return f"promotion:{model}"


def record_decision(store: MetadataStore, record: PromotionRecord) -> PromotionRecord:
    """Record a decision in one transaction; return it with its run id."""
    run = store.create_run(pipeline_name(record.model), properties={"promotion": record.to_json()})
    store.finish_run(run.id, "complete")
    return PromotionRecord(**{**asdict(record), "run_id": run.id})


def list_decisions(store: MetadataStore, model: str) -> list[PromotionRecord]:
    """Return a model's recorded decisions, newest first."""
    records = []
    for run in store.list_runs(pipeline=pipeline_name(model)):
        data = run.properties.get("promotion")
        if isinstance(data, dict):
            record = PromotionRecord.from_json(data)
            records.append(PromotionRecord(**{**asdict(record), "run_id": run.id}))
    return records
