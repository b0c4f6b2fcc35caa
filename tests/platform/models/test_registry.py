"""The model registry on SQLite and PostgreSQL: models, versions registered from pushes
(by artifact id or by run, idempotent), their lineage, and every refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.auth.records import Actor
from shipyard.platform.models.documents import model_document
from shipyard.platform.models.registry import ModelRegistry
from tests.platform.conftest import HOST
from tests.platform.models.pushes import push_run

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.database import Database

ANA = Actor("ana", "req-1", "127.0.0.1")


@pytest.fixture
def registry(database: Database, accounts: Accounts, store_url: str) -> ModelRegistry:
    """A registry whose projects `taxi` and `fraud` keep their runs in the test's store."""
    for project in ("taxi", "fraud"):
        accounts.add_project(project, actor=HOST)
    return ModelRegistry(database, lambda project: store_url)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the runs' artifacts go under .shipyard/ here
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)


def test_versions_are_registered_from_pushes_once_each_with_their_lineage(
    registry: ModelRegistry, store_url: str, tmp_path: Path, audit: AuditLog
) -> None:
    registry.create_model("taxi", "fares", actor=ANA, description="fare in dollars")
    first_run, first = push_run(store_url, tmp_path / "models", "one")
    second_run, second = push_run(store_url, tmp_path / "models", "two")

    v1, new = registry.register_version("taxi", "fares", artifact_id=first, actor=ANA)
    assert new and v1.version == 1 and v1.push.artifact_id == first
    assert (v1.push.run_id, v1.push.blessed, v1.push.infra_blessed) == (first_run.id, True, None)
    assert v1.push.path == str((tmp_path / "models" / "m" / "1").resolve())
    assert v1.registered_by == "ana"

    v2, new = registry.register_version("taxi", "fares", run_id=second_run.id, actor=ANA)
    assert new and (v2.version, v2.push.artifact_id, v2.push.run_id) == (2, second, second_run.id)
    again, new = registry.register_version("taxi", "fares", artifact_id=second, actor=ANA)
    assert not new and again == v2

    assert [v.version for v in registry.list_versions("taxi", "fares")] == [2, 1]
    assert registry.get_version("taxi", "fares", 1) == v1
    document = model_document(registry.get_model("taxi", "fares"), [v1])
    assert document["description"] == "fare in dollars"
    assert document["versions"][0]["artifact_id"] == first
    actions = [(e.action, e.target, e.request_id) for e in audit.events(project="taxi")]
    assert ("model.create", "fares", "req-1") in actions
    assert ("model.register", "fares/2", "req-1") in actions
    assert sum(action == "model.register" for action, _, _ in actions) == 2


def test_models_are_per_project(registry: ModelRegistry) -> None:
    registry.create_model("taxi", "fares", actor=ANA)
    registry.create_model("fraud", "fares", actor=ANA)
    with pytest.raises(AlreadyExistsError, match="'taxi' has a model named 'fares'"):
        registry.create_model("taxi", "fares", actor=ANA)
    assert [m.project for m in registry.list_models("fraud")] == ["fraud"]
    with pytest.raises(NotFoundError, match="no model 'tips'"):
        registry.get_model("taxi", "tips")
    with pytest.raises(NotFoundError, match="no project 'nope'"):
        registry.create_model("nope", "fares", actor=ANA)


def test_a_registration_must_name_one_pushed_model(
    registry: ModelRegistry, store_url: str, tmp_path: Path
) -> None:
    registry.create_model("taxi", "fares", actor=ANA)
    run, pushed = push_run(store_url, tmp_path / "models", "one")
    refused, _ = push_run(store_url, tmp_path / "models", "bad", blessed=False)
    model_id = run["copied_model"].outputs["model"].id
    assert model_id is not None

    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({}, InvalidParameterError, "by 'artifact_id' or by 'run_id'"),
        ({"artifact_id": pushed, "run_id": run.id}, InvalidParameterError, "not both"),
        ({"artifact_id": model_id}, InvalidParameterError, "is a Model, not a PushedModel"),
        ({"artifact_id": 99_999}, NotFoundError, "99999"),
        ({"run_id": refused.id}, NotFoundError, "pushed no model"),
        ({"run_id": "no-such-run"}, NotFoundError, "no-such-run"),
    ]
    for options, error, message in cases:
        with pytest.raises(error, match=message):
            registry.register_version("taxi", "fares", actor=ANA, **options)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="no model 'tips'"):
        registry.register_version("taxi", "tips", artifact_id=pushed, actor=ANA)
    with pytest.raises(InvalidParameterError, match="model name must be"):
        registry.create_model("taxi", "../up", actor=ANA)
    assert registry.list_versions("taxi", "fares") == []


def test_a_push_whose_directory_is_gone_registers_the_model_it_copied(
    registry: ModelRegistry, store_url: str, tmp_path: Path
) -> None:
    import shutil

    from shipyard.store import open_store

    registry.create_model("taxi", "fares", actor=ANA)
    run, pushed = push_run(store_url, tmp_path / "models", "one")
    shutil.rmtree(tmp_path / "models")  # as a job's working directory, once the job ended
    version, _new = registry.register_version("taxi", "fares", artifact_id=pushed, actor=ANA)
    store = open_store(store_url)
    try:
        model = next(
            store.get_artifact(event.artifact_id)
            for execution in store.list_executions(run.id)
            for event in store.events_of_execution(execution.id)
            if event.kind == "output" and store.get_artifact(event.artifact_id).type_name == "Model"
        )
    finally:
        store.close()
    assert version.push.path == model.uri
    shutil.rmtree(model.uri)
    with pytest.raises(NotFoundError, match="and so is the model it copied"):
        registry.register_version("taxi", "fares", run_id=run.id, actor=ANA)
