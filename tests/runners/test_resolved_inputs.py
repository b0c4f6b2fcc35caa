"""`latest(...)` and `latest_blessed_model()` inputs, resolved by the runner from the store."""

from __future__ import annotations

import pytest

from shipyard import Out, Pipeline, component, latest, latest_blessed_model
from shipyard.artifacts import BlessingDecision, Metrics, Model, ModelBlessing
from shipyard.errors import DefinitionError
from tests.conftest import Workspace


@component
def make_model(model: Out[Model], *, tag: str) -> None:
    model.path.mkdir(parents=True, exist_ok=True)
    (model.path / "tag.txt").write_text(tag, encoding="utf-8")
    model.properties["tag"] = tag


@component
def judge(
    model: Model,
    blessing: Out[ModelBlessing],
    baseline: Model | None = None,
    *,
    bless: bool,
) -> None:
    """Blesses on request and records which baseline it was given."""
    seen = (baseline.path / "tag.txt").read_text(encoding="utf-8") if baseline else None
    blessing.save(BlessingDecision(blessed=bless, baseline_id=baseline.id if baseline else None))
    blessing.properties["baseline_tag"] = seen


@component
def read_metrics(out: Out[Metrics], previous: Metrics | None = None) -> None:
    out.save({"previous": previous.load()["n"] + 1 if previous else 0, "n": 0})


def blessing_pipeline(tag: str, *, bless: bool, name: str = "models") -> Pipeline:
    made = make_model(tag=tag)
    judged = judge(model=made.outputs.model, baseline=latest_blessed_model(), bless=bless)
    return Pipeline(name, nodes=[judged])


def baseline_tag(workspace: Workspace, tag: str, *, bless: bool, name: str = "models") -> object:
    result = workspace.run(blessing_pipeline(tag, bless=bless, name=name))
    assert result.ok, [n.error for n in result.failed]
    return result["judge"].outputs["blessing"].properties["baseline_tag"]


def test_the_baseline_is_the_latest_blessed_model_of_the_same_pipeline(
    workspace: Workspace,
) -> None:
    assert baseline_tag(workspace, "a", bless=True) is None  # the first run has none
    assert baseline_tag(workspace, "b", bless=False) == "a"
    assert baseline_tag(workspace, "c", bless=True) == "a"  # b was not blessed
    assert baseline_tag(workspace, "d", bless=True) == "c"
    assert baseline_tag(workspace, "e", bless=True, name="other") is None


def test_a_resolved_input_is_recorded_in_lineage(workspace: Workspace) -> None:
    first = workspace.run(blessing_pipeline("a", bless=True))
    second = workspace.run(blessing_pipeline("b", bless=True))
    first_model = first["make_model"].outputs["model"]
    store = workspace.project().store
    execution = second["judge"].execution_id
    assert execution is not None
    inputs = {
        e.name: e.artifact_id for e in store.events_of_execution(execution) if e.kind == "input"
    }
    assert inputs["baseline"] == first_model.id
    assert second["judge"].outputs["blessing"].properties["baseline_id"] == first_model.id


def test_a_deleted_baseline_is_passed_over(workspace: Workspace) -> None:
    first = workspace.run(blessing_pipeline("a", bless=True))
    workspace.run(blessing_pipeline("b", bless=True))
    second_model = workspace.run(blessing_pipeline("b", bless=True))  # cached: baseline a->b
    assert second_model.ok
    store = workspace.project().store
    newest = store.list_artifacts(pipeline="models", type_name="Model")[-1]
    store.mark_artifacts_deleted([newest.id])
    assert baseline_tag(workspace, "z", bless=True) == "a"
    assert first.ok


def test_latest_with_property_filters(workspace: Workspace) -> None:
    @component
    def use(out: Out[Metrics], model: Model | None = None) -> None:
        out.save({"tag": float((model.path / "tag.txt").read_text()) if model else -1.0})

    def pipeline(tag: str) -> Pipeline:
        made = make_model(tag=tag)
        return Pipeline("filters", nodes=[use(model=latest(Model, tag="2")).after(made)])

    runs = [workspace.run(pipeline(tag)) for tag in ("1", "2", "3")]
    assert all(r.ok for r in runs), [n.error for r in runs for n in r.failed]
    # Run 2 finds the model its own make_model node registered before `use` started.
    assert [r["use"].outputs["out"].load()["tag"] for r in runs] == [-1.0, 2.0, 2.0]


def test_wiring_mistakes_are_reported(workspace: Workspace) -> None:
    @component
    def needs(model: Model, out: Out[Metrics]) -> None:
        out.save({})

    with pytest.raises(DefinitionError) as error:
        Pipeline(
            "wrong",
            nodes=[
                needs(model=latest_blessed_model()),
                read_metrics(previous=latest_blessed_model()),
            ],
        )
    message = str(error.value)
    assert "finds nothing on a pipeline's first run, so the input must be optional" in message
    assert "expects Metrics, but latest_blessed_model() resolves to Model" in message


def test_a_model_is_not_its_own_baseline_so_an_unchanged_rerun_is_cached(
    workspace: Workspace,
) -> None:
    first = workspace.run(blessing_pipeline("a", bless=True))
    again = workspace.run(blessing_pipeline("a", bless=True))
    assert again["judge"].state == "cached"
    assert again["judge"].outputs["blessing"].properties["baseline_tag"] is None
    newer = workspace.run(blessing_pipeline("b", bless=True))
    assert newer["judge"].outputs["blessing"].properties["baseline_tag"] == "a"
    rerun = workspace.run(blessing_pipeline("b", bless=True))
    assert rerun["judge"].state == "cached"  # b's baseline is still a, the model before it
    assert first.ok
