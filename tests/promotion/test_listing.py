"""`shipyard models`: versions with their blessings from the store, labels and decisions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shipyard import Out, Pipeline, component
from shipyard.artifacts import (
    BlessingDecision,
    InfraBlessing,
    InfraValidation,
    Model,
    ModelBlessing,
)
from shipyard.cli.main import app
from shipyard.components import push
from shipyard.promotion.listing import list_models
from shipyard.promotion.records import PromotionRecord, record_decision
from tests.conftest import Workspace


@component
def fake_model(model: Out[Model], *, tag: str) -> None:
    model.path.mkdir(parents=True, exist_ok=True)
    (model.path / Model.ONNX_FILENAME).write_bytes(tag.encode())
    (model.path / Model.SIGNATURE_FILENAME).write_text("{}")


@component
def fake_checks(
    model: Model, blessing: Out[ModelBlessing], infra_blessing: Out[InfraBlessing], *, ok: bool
) -> None:
    blessing.save(BlessingDecision(blessed=True))
    problems = () if ok else ("request 1: answered 400: bad",)
    infra_blessing.save(InfraValidation(ok, 1, 1, "eval split", 100.0, {}, 1.0, problems))


def _pipeline(base: Path, tag: str, *, ok: bool = True, canary: float | None = None) -> Pipeline:
    made = fake_model(tag=tag)
    checks = fake_checks(model=made.outputs.model, ok=ok)
    pushed = push(
        model=made.outputs.model,
        blessing=checks.outputs.blessing,
        infra_blessing=checks.outputs.infra_blessing,
        name="m",
        base=str(base),
        canary_percent=canary,
    )
    return Pipeline("fake", nodes=[pushed])


def test_versions_show_blessings_labels_decisions_and_rejections(workspace: Workspace) -> None:
    base = workspace.root / "models"
    first = workspace.run(_pipeline(base, "one"))
    assert first.ok, first.failed
    refused = workspace.run(_pipeline(base, "bad", ok=False))
    assert refused["push"].outputs["pushed"].properties["pushed"] is False
    second = workspace.run(_pipeline(base, "two", canary=20))
    assert second.ok, second.failed
    with workspace.project() as project:
        record_decision(
            project.store,
            PromotionRecord("m", "roll_back", "too many errors", 1, 2, 20.0, {}, {}, "u", "c"),
        )
        (listing,) = list_models(base, store=project.store)
    assert listing.canary_percent == 20
    assert [
        (v.version, v.labels, v.blessed, v.infra_blessed, v.rejected) for v in listing.versions
    ] == [
        (2, ("canary",), True, True, True),
        (1, ("stable",), True, True, False),
    ]
    assert listing.versions[0].pushed_by == second.id
    assert [d.reason for d in listing.decisions] == ["too many errors"]

    result = CliRunner().invoke(
        app, ["models", "--models-dir", str(base), "--store", workspace.store_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    (data,) = json.loads(result.output)["models"]
    assert data["versions"][0] == {
        "version": 2,
        "path": str(base / "m" / "2"),
        "labels": ["canary"],
        "blessed": True,
        "infra_blessed": True,
        "pushed_by": second.id,
        "rejected": True,
        "state": None,
        "figures": None,
    }
    table = CliRunner().invoke(
        app, ["models", "--models-dir", str(base), "--store", workspace.store_url]
    )
    assert table.exit_code == 0, table.output
    assert "canary 20%" in table.output and "rejected" in table.output
    assert "rolled back version 2: too many errors" in table.output


def test_without_a_store_versions_and_labels_are_listed_and_no_store_is_made(
    tmp_path: Path,
) -> None:
    (tmp_path / "models" / "m" / "1").mkdir(parents=True)
    (tmp_path / "models" / "models.yaml").write_text(
        "models: [{name: m, base_path: m, labels: {stable: 1}}]\n"
    )
    store = tmp_path / "none" / "store.db"
    result = CliRunner().invoke(
        app,
        ["models", "--models-dir", str(tmp_path / "models"), "--store", f"sqlite:///{store}"],
    )
    assert result.exit_code == 0, result.output
    assert "stable" in result.output
    assert not store.exists()
