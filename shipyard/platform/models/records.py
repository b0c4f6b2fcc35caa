"""The registry's and the endpoints' records, as the platform's database holds them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


@dataclass(frozen=True)
class RegisteredModel:
    """A model registered in a project: the name its versions are deployed under.

    Attributes:
        project: The project it belongs to.
        name: Its name: a directory name, as `shipyard serve` serves it (`/v1/models/NAME`).
        description: What it is, in the words of whoever registered it.
        created_by: The user who registered it.
        created_at: When.
    """

    project: str
    name: str
    description: str
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class Push:
    """A pushed model and its lineage: what a registered version is.

    Attributes:
        artifact_id: The `PushedModel` artifact's id in the project's store.
        uri: The artifact's URI.
        path: Where the version's files are: the directory the push wrote
            (`BASE/NAME/VERSION`) if the server can read it, else the URI of the exported
            model the push copied (`s3://...`, or a directory of the artifact root).
        run_id: The run that pushed it (None when the store does not say).
        blessed: Its blessing by `evaluate` (None: not found through lineage).
        infra_blessed: Its infra blessing (None: not validated, or not found).
    """

    artifact_id: int
    uri: str
    path: str
    run_id: str | None
    blessed: bool | None
    infra_blessed: bool | None


_PUSH_FIELDS = tuple(field.name for field in fields(Push))


@dataclass(frozen=True)
class ModelVersion:
    """A version of a registered model: one pushed model of the project's store.

    Attributes:
        model: The registered model's name.
        version: 1, 2, ... in the order they were registered.
        push: The pushed model it is (its `model_versions` columns).
        registered_by: The user who registered it.
        registered_at: When.
    """

    model: str
    version: int
    push: Push
    registered_by: str | None
    registered_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ModelVersion:
        """The version in a row of `model_versions` (with its model's name as `model`)."""
        return cls(
            model=row["model"],
            version=row["version"],
            push=Push(**{name: row[name] for name in _PUSH_FIELDS}),
            registered_by=row["registered_by"],
            registered_at=row["registered_at"],
        )

    def columns(self) -> dict[str, Any]:
        """Its columns of `model_versions`, but the model's id."""
        return {
            "version": self.version,
            **{name: getattr(self.push, name) for name in _PUSH_FIELDS},
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
        }


@dataclass(frozen=True)
class Endpoint:
    """An endpoint: a `shipyard serve` process serving one registered model of a project.

    Attributes:
        project: The project it belongs to.
        name: Its name in the project.
        model: The registered model it serves.
        stable: The version labelled `stable` (None before the first deploy).
        canary: The version labelled `canary`, if any.
        canary_percent: The canary's share of requests naming no version (0 without one).
        state: `starting`, `running`, `failed` (restarted too often) or `stopped`.
        port: The port its server listens on, on 127.0.0.1 (None while not started).
        pid: Its server's process id (None while not started).
        restarts: How many times it was restarted after its process died.
        message: What happened last, in words.
        created_by: The user who created it.
        created_at: When.
        updated_at: When its row last changed.
    """

    project: str
    name: str
    model: str
    stable: int | None
    canary: int | None
    canary_percent: float
    state: str
    port: int | None
    pid: int | None
    restarts: int
    message: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def url(self) -> str | None:
        """The URL of its server (None while it has no port)."""
        return None if self.port is None else f"http://127.0.0.1:{self.port}"
