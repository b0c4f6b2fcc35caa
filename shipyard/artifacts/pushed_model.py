"""The `PushedModel` artifact: where the pusher wrote a model, or why it did not.

Stored as `pushed.json`: `{"pushed": true, "name", "version", "path"}` for a pushed model
(with `label`, `canary_percent` and `model_config` when the push wrote a model config),
`{"pushed": false, "reason"}` otherwise. The same facts are recorded in `properties`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError


@dataclass(frozen=True)
class PushDecision:
    """What the pusher did.

    Attributes:
        pushed: Whether the model was copied.
        name: The model's name under the base directory (None when not pushed).
        version: The version written, 1, 2, ... (None when not pushed).
        path: The absolute directory `BASE/NAME/VERSION` (None when not pushed).
        reason: Why the model was not pushed (None when pushed).
        label: The label the push gave the version in the model config (`stable` or
            `canary`), None when it wrote no config.
        canary_percent: The canary's share of unlabeled requests, for a canary.
        model_config: The model config file the push wrote, if any.
    """

    pushed: bool
    name: str | None = None
    version: int | None = None
    path: str | None = None
    reason: str | None = None
    label: str | None = None
    canary_percent: float | None = None
    model_config: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict: the keys that apply to a pushed or unpushed model."""
        if self.pushed:
            released = {
                "label": self.label,
                "canary_percent": self.canary_percent,
                "model_config": self.model_config,
            }
            return {
                "pushed": True,
                "name": self.name,
                "version": self.version,
                "path": self.path,
                **{key: value for key, value in released.items() if value is not None},
            }
        return {"pushed": False, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PushDecision:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return cls(
                pushed=bool(data["pushed"]),
                name=data.get("name"),
                version=data.get("version"),
                path=data.get("path"),
                reason=data.get("reason"),
                label=data.get("label"),
                canary_percent=data.get("canary_percent"),
                model_config=data.get("model_config"),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"malformed pushed model: {exc}") from exc


class PushedModel(Artifact):
    """Where the pusher wrote a model (`BASE/NAME/VERSION`): `pushed.json`, and properties.

    Example:
        >>> pushed.load().path
        '/srv/models/penguins/3'
    """

    FILENAME = "pushed.json"

    def save(self, value: PushDecision) -> None:
        """Write the decision as JSON and record it in `properties`."""
        self.path.mkdir(parents=True, exist_ok=True)
        data = value.to_json()
        (self.path / self.FILENAME).write_text(json.dumps(data, indent=2), encoding="utf-8")
        self.properties.update(data)

    def load(self) -> PushDecision:
        """Read the decision back.

        Raises:
            NotFoundError: The artifact holds no decision.
        """
        file = self.required_file(self.FILENAME)
        return PushDecision.from_json(json.loads(file.read_text(encoding="utf-8")))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        return self.load().to_json()
