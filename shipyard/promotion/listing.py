"""`shipyard models`: each model's versions, blessings, labels, decisions and serving state.

Gathered from four places, each optional but the first:

- the model repository (`BASE/NAME/VERSION/`, as `push` writes it): the versions;
- the model config (`BASE/models.yaml` by default): the `stable` and `canary` labels and
  the canary's share;
- the store: for each version, the push that wrote it and, through its inputs, the
  blessing of `evaluate` and the infra blessing of `infra_validate`; and the promotion
  decisions (`shipyard.promotion.records`): a rolled-back version is `rejected`;
- a server: the state of each version it knows (`AVAILABLE`, `LOADING`, `END`), and each
  version's figures from its `/metrics` (requests so far, errors, latency; `figures.py`).

`ModelListing.to_json` is the one shape of `shipyard models --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import ServingError
from shipyard.promotion.figures import VersionFigures, read_metrics, version_figures
from shipyard.promotion.records import PromotionRecord, list_decisions
from shipyard.serving.config import read_model_config
from shipyard.serving.labels import Release
from shipyard.serving.repository import scan_versions

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.serving.config import ModelConfig
    from shipyard.store import MetadataStore


@dataclass(frozen=True)
class VersionListing:
    """One version of a model.

    Attributes:
        version: The version number.
        path: Its directory.
        labels: The labels naming it (`stable`, `canary`, others).
        blessed: Its blessing by `evaluate` (None: not found in the store).
        infra_blessed: Its infra blessing (None: not validated, or not found).
        pushed_by: The run that pushed it (None: not found in the store).
        rejected: Whether a promotion decision rolled it back.
        state: Its state on the server (None without a server, or unknown there).
        figures: What it answered on the server since it loaded (None without a server, or
            when the server reports nothing for it).
    """

    version: int
    path: str
    labels: tuple[str, ...] = ()
    blessed: bool | None = None
    infra_blessed: bool | None = None
    pushed_by: str | None = None
    rejected: bool = False
    state: str | None = None
    figures: VersionFigures | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the version as plain JSON."""
        return {
            "version": self.version,
            "path": self.path,
            "labels": list(self.labels),
            "blessed": self.blessed,
            "infra_blessed": self.infra_blessed,
            "pushed_by": self.pushed_by,
            "rejected": self.rejected,
            "state": self.state,
            "figures": None if self.figures is None else self.figures.to_json(),
        }


@dataclass(frozen=True)
class ModelListing:
    """One model.

    Attributes:
        name: The model's name.
        base_path: The directory of its versions.
        versions: Newest first.
        canary_percent: The canary's share of unlabeled requests (0 without a canary).
        decisions: Its promotion decisions, newest first.
        server_error: Why the server could not say what it serves, if it could not.
    """

    name: str
    base_path: str
    versions: tuple[VersionListing, ...]
    canary_percent: float = 0.0
    decisions: tuple[PromotionRecord, ...] = field(default=())
    server_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the model as plain JSON: the shape of `shipyard models --json`."""
        return {
            "name": self.name,
            "base_path": self.base_path,
            "canary_percent": self.canary_percent,
            "versions": [version.to_json() for version in self.versions],
            "decisions": [decision.to_json() for decision in self.decisions],
            "server_error": self.server_error,
        }


def list_models(
    models_dir: Path,
    *,
    model_config: Path | None = None,
    store: MetadataStore | None = None,
    server: str | None = None,
) -> list[ModelListing]:
    """Describe every model under `models_dir` and in the model config, by name.

    Args:
        models_dir: The push base: one directory of versions per model.
        model_config: The model config (default `models_dir/models.yaml`, when it exists).
        store: The metadata store, for blessings, pushes and decisions.
        server: A server's URL, for what it serves.

    Raises:
        ConfigError: The model config exists but is invalid.
    """
    config_file = model_config or models_dir / "models.yaml"
    configs: dict[str, ModelConfig] = {}
    if config_file.exists():
        configs = {m.name: m for m in read_model_config(config_file).models}
    bases = {}
    if models_dir.is_dir():
        bases = {p.name: p for p in sorted(models_dir.iterdir()) if scan_versions(p)}
    bases |= {name: config.base_path for name, config in configs.items()}
    pushes = _pushes(store) if store is not None else {}
    served = _Served.read(server) if server is not None else None
    return [
        _listing(name, bases[name], configs.get(name), pushes=pushes, store=store, served=served)
        for name in sorted(bases)
    ]


@dataclass(frozen=True)
class _Served:
    """What one server said: its URL, and its `/metrics` text or why it could not be read."""

    url: str
    metrics: str | None
    error: str | None

    @classmethod
    def read(cls, server: str) -> _Served:
        try:
            return cls(server, read_metrics(server), None)
        except ServingError as error:
            return cls(server, None, error.message)


def _listing(
    name: str,
    base: Path,
    config: ModelConfig | None,
    *,
    pushes: dict[tuple[str, int], dict[str, Any]],
    store: MetadataStore | None,
    served: _Served | None,
) -> ModelListing:
    decisions = tuple(list_decisions(store, name)) if store is not None else ()
    rejected = {d.canary for d in decisions if d.action == "roll_back"}
    states: dict[int, str] = {}
    figures: dict[int, VersionFigures] = {}
    server_error = None
    if served is not None:
        states, server_error = _served_states(served.url, name)
        if served.metrics is not None:
            figures = version_figures(served.metrics, name)
        server_error = server_error or served.error
    labels = dict(config.labels) if config is not None else {}
    versions = []
    for version, path in sorted(scan_versions(base).items(), reverse=True):
        push = pushes.get((name, version), {})
        versions.append(
            VersionListing(
                version=version,
                path=str(path),
                labels=tuple(sorted(k for k, v in labels.items() if v == version)),
                blessed=push.get("blessed"),
                infra_blessed=push.get("infra_blessed"),
                pushed_by=push.get("run_id"),
                rejected=version in rejected,
                state=states.get(version),
                figures=figures.get(version),
            )
        )
    release = Release.of(config) if config is not None else Release()
    return ModelListing(
        name=name,
        base_path=str(base),
        versions=tuple(versions),
        canary_percent=release.percent,
        decisions=decisions,
        server_error=server_error,
    )


def _pushes(store: MetadataStore) -> dict[tuple[str, int], dict[str, Any]]:
    """Map (model, version) to the newest push of it: its run and its inputs' blessings."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for artifact in store.list_artifacts(type_name="PushedModel"):
        props = artifact.properties
        if not props.get("pushed") or props.get("version") is None:
            continue
        found[(str(props.get("name")), int(props["version"]))] = push_facts(store, artifact.id)
    return found  # the newest push of a version wins


def push_facts(store: MetadataStore, artifact_id: int) -> dict[str, Any]:
    """Return the lineage of a pushed model: `run_id`, `blessed`, `infra_blessed`, `model_uri`.

    The run is the one whose execution wrote the artifact; the blessings are those of the
    push's `blessing` and `infra_blessing` inputs; `model_uri` is the URI of its `model`
    input (the exported model the push copied). A fact the store does not hold is absent.
    """
    facts: dict[str, Any] = {}
    for event in store.events_of_artifact(artifact_id):
        if event.kind != "output":
            continue
        facts["run_id"] = store.get_execution(event.execution_id).run_id
        for used in store.events_of_execution(event.execution_id):
            if used.kind == "input" and used.name == "model":
                facts["model_uri"] = store.get_artifact(used.artifact_id).uri
            elif used.kind == "input" and used.name in ("blessing", "infra_blessing"):
                blessed = store.get_artifact(used.artifact_id).properties.get("blessed")
                facts["blessed" if used.name == "blessing" else "infra_blessed"] = blessed
    return facts


def _served_states(server: str, name: str) -> tuple[dict[int, str], str | None]:
    from shipyard.client import Client

    try:
        with Client(server, timeout_s=10) as client:
            statuses = client.status(name)
    except ServingError as error:
        return {}, error.message
    return {int(s["version"]): str(s["state"]) for s in statuses}, None
