"""The outcome of a run, derived from its output artifacts, and how the display prints it."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from shipyard.artifacts import (
    Artifact,
    BlessingCheck,
    BlessingDecision,
    Metrics,
    ModelBlessing,
    ModelEvaluation,
    PushDecision,
    PushedModel,
)
from shipyard.runners import NodeRun, Run
from shipyard.runners.display import print_outcome
from shipyard.runners.outcome import outcome_of, run_outcome

FAILED_CHECK = BlessingCheck(
    metric="accuracy",
    kind="min",
    value=0.8,
    bound=0.9,
    passed=False,
    reason="accuracy 0.8 is below the minimum 0.9.",
)


def _evaluation(path: Path) -> ModelEvaluation:
    path.mkdir(parents=True)
    (path / "evaluation.json").write_text("{}")
    (path / "report.html").write_text("<html></html>")
    return ModelEvaluation(
        path,
        properties={"metrics": {"accuracy": 0.8, "log_loss": 0.4, "ece": 0.1, "count": 50}},
    )


def _blessing(path: Path, decision: BlessingDecision) -> ModelBlessing:
    blessing = ModelBlessing(path)
    blessing.save(decision)
    return blessing


def _pushed(path: Path, decision: PushDecision) -> PushedModel:
    pushed = PushedModel(path)
    pushed.save(decision)
    return pushed


def test_outcome_names_the_push_the_blessing_and_why_the_metrics_and_every_report(
    tmp_path: Path,
) -> None:
    statistics = Artifact(tmp_path / "statistics")
    statistics.path.mkdir()
    (statistics.path / "report.html").write_text("<html></html>")
    (statistics.path / "chart.png").write_bytes(b"png")
    custom = Metrics(tmp_path / "custom", properties={"lift": 1.5, "label": "x", "bad": True})
    outcome = outcome_of(
        [
            ("statistics", "statistics", statistics),
            ("evaluate", "evaluation", _evaluation(tmp_path / "evaluation")),
            (
                "evaluate",
                "blessing",
                _blessing(
                    tmp_path / "blessing",
                    BlessingDecision(blessed=False, checks=(FAILED_CHECK,), notes=("one class",)),
                ),
            ),
            ("score", "out", custom),
            ("push", "pushed", _pushed(tmp_path / "pushed", PushDecision(False, reason="nope"))),
        ]
    )
    assert [(m.node, m.pushed, m.reason) for m in outcome.models] == [("push", False, "nope")]
    [blessing] = outcome.blessings
    assert not blessing.blessed and outcome.blessed is False
    assert blessing.summary == "Not blessed: accuracy 0.8 is below the minimum 0.9."
    assert blessing.notes == ("one class",)
    assert blessing.checks[0]["metric"] == "accuracy"
    # headline metrics in their fixed order; other numbers only when no headline one exists
    assert outcome.metrics == {
        "evaluate": {"accuracy": 0.8, "log_loss": 0.4},
        "score": {"lift": 1.5},
    }
    assert outcome.headline_metrics == {"accuracy": 0.8, "log_loss": 0.4}
    assert [(r.node, r.type, r.path) for r in outcome.reports] == [
        ("statistics", "Artifact", str(statistics.path / "report.html")),
        ("evaluate", "ModelEvaluation", str(tmp_path / "evaluation" / "report.html")),
    ]
    assert outcome.to_json()["blessings"][0]["notes"] == ["one class"]


def test_a_blessing_whose_files_are_gone_falls_back_to_its_record(tmp_path: Path) -> None:
    gone = ModelBlessing(tmp_path / "collected", properties={"blessed": True, "baseline_id": 4})
    [blessing] = outcome_of([("evaluate", "blessing", gone)]).blessings
    assert (blessing.blessed, blessing.summary, blessing.baseline_id) == (True, "Blessed.", 4)


def test_a_finished_run_is_summarized_and_printed_with_whole_paths(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-directory-name"] * 6))
    push = NodeRun("push", "push", state="complete")
    push.outputs["pushed"] = _pushed(
        deep / "pushed", PushDecision(True, name="taxi", version=3, path=str(deep / "taxi" / "3"))
    )
    evaluate = NodeRun("evaluate", "evaluate", state="complete")
    evaluate.outputs["evaluation"] = _evaluation(deep / "evaluation")
    evaluate.outputs["blessing"] = _blessing(
        deep / "blessing", BlessingDecision(blessed=True, checks=())
    )
    run = Run("r1", "taxi", "complete", 1.0, {"evaluate": evaluate, "push": push}, "s", "a")
    outcome = run_outcome(run)
    assert outcome.models[0].path == str(deep / "taxi" / "3") and outcome.blessed is True

    text = io.StringIO()
    print_outcome(Console(file=text, width=40, color_system=None), outcome)
    printed = text.getvalue()
    assert f"Model taxi version 3 pushed to {deep / 'taxi' / '3'}\n" in printed
    assert "Blessed: no check applied" in printed
    assert "Metrics (evaluate): accuracy 0.8 · log_loss 0.4" in printed
    assert f"evaluate/evaluation  {deep / 'evaluation' / 'report.html'}\n" in printed
