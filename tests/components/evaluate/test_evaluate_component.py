"""The evaluate component in real runs: ingest -> ... -> train -> evaluate."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import shipyard
from shipyard import Pipeline
from shipyard.artifacts import Examples, Model, ModelBlessing, ModelEvaluation
from shipyard.components import compute_statistics, evaluate, infer_schema, ingest, train, transform
from shipyard.dsl import Node
from shipyard.errors import DataError, InvalidParameterError, NotFoundError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"
FAST = {"hidden_units": [16, 8], "epochs": 30, "learning_rate": 0.01, "batch_size": 32}


def _prepared(label: str) -> tuple[Node, dict[str, Any]]:
    """Return the ingest node of the penguins and the inputs of a training on `label`."""
    raw = ingest(source=str(PENGUINS), splits={"train": 8, "eval": 2})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label=label)
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    inputs = {
        "transformed": prepared.outputs.transformed,
        "transform_graph": prepared.outputs.transform_graph,
        "schema": schema.outputs.schema,
    }
    return raw, inputs


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[shipyard.Run]:
    """One run: a model, a weaker baseline, and evaluations with and without the baseline."""
    root = tmp_path_factory.mktemp("evaluate")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
            patch.delenv(var, raising=False)
        raw, inputs = _prepared("species")
        candidate = train(**inputs, **FAST)  # type: ignore[arg-type]
        weak = train(
            **inputs,  # type: ignore[arg-type]
            hidden_units=[4],
            epochs=1,
            learning_rate=0.001,
            batch_size=32,
            seed=1,
        ).with_options(name="train_baseline")
        checked = evaluate(
            examples=raw.outputs.examples,
            model=candidate.outputs.model,
            slices=["island", {"feature": "body_mass_g", "quantiles": 2}],
            thresholds={"accuracy": {"min": 0.9}},
        )
        compared = evaluate(
            examples=raw.outputs.examples,
            model=candidate.outputs.model,
            baseline=weak.outputs.model,
            thresholds={"accuracy": {"min": 0.9}},
            max_regression={"accuracy": 0.01, "log_loss": 0.1},
        ).with_options(name="evaluate_vs_baseline")
        regressed = evaluate(
            examples=raw.outputs.examples,
            model=weak.outputs.model,
            baseline=candidate.outputs.model,  # no max_regression: the default limit applies
        ).with_options(name="evaluate_weak_vs_candidate")
        pipeline = Pipeline("penguins_evaluate", nodes=[checked, compared, regressed])
        store = f"sqlite:///{root / '.shipyard' / 'store.db'}"
        result = shipyard.run(pipeline, store=store, progress=False)
        assert result.ok, [n.error for n in result.failed]
        yield result


def test_evaluate_blesses_a_good_model_on_the_raw_eval_split(run: shipyard.Run) -> None:
    evaluation = run["evaluate"].outputs["evaluation"]
    blessing = run["evaluate"].outputs["blessing"]
    assert isinstance(evaluation, ModelEvaluation)
    assert isinstance(blessing, ModelBlessing)
    result = evaluation.load()
    assert result.split == "eval"
    assert result.task == "multiclass"
    assert result.metrics["accuracy"] is not None
    assert result.metrics["accuracy"] >= 0.9
    assert result.overall["class_labels"] == ["Adelie", "Gentoo", "Chinstrap"]
    assert result.overall["excluded"] == {"missing_label": 0, "unseen_label": 0}
    examples = run["ingest"].outputs["examples"]
    assert isinstance(examples, Examples)
    assert result.overall["count"] == examples.read("eval").num_rows
    names = [s["name"] for s in result.slices]
    assert any(name.startswith("island=") for name in names)
    assert any("body_mass_g" in name for name in names)
    assert (evaluation.path / "report.html").is_file()
    assert evaluation.properties["metrics"]["accuracy"] == result.metrics["accuracy"]
    assert evaluation.properties["excluded_rows"]["unseen_label"] == 0
    json.dumps(evaluation.properties, allow_nan=False)

    decision = blessing.load()
    assert decision.blessed, decision.summary()
    assert blessing.properties["blessed"] is True
    assert [(c.metric, c.kind) for c in decision.checks] == [("accuracy", "min")]
    assert decision.baseline_id is None


def test_evaluate_compares_with_a_baseline(run: shipyard.Run) -> None:
    blessing = run["evaluate_vs_baseline"].outputs["blessing"]
    evaluation = run["evaluate_vs_baseline"].outputs["evaluation"]
    baseline = run["train_baseline"].outputs["model"]
    decision = blessing.load()
    regressions = {c.metric: c for c in decision.checks if c.kind == "regression"}
    assert set(regressions) == {"accuracy", "log_loss"}
    assert decision.baseline_id == baseline.id is not None
    result = evaluation.load()
    assert result.overall["baseline"]["id"] == baseline.id
    baseline_accuracy = result.overall["baseline"]["metrics"]["accuracy"]
    assert regressions["accuracy"].baseline == baseline_accuracy
    # the one-epoch baseline is worse: the candidate does not regress
    assert result.metrics["accuracy"] >= baseline_accuracy
    assert decision.blessed, decision.summary()


def test_by_default_a_model_worse_than_its_baseline_is_not_blessed(run: shipyard.Run) -> None:
    decision = run["evaluate_weak_vs_candidate"].outputs["blessing"].load()
    assert not decision.blessed
    [check] = [c for c in decision.checks if c.kind == "regression"]
    assert check.metric == "accuracy" and not check.passed  # multiclass: accuracy, by 0.01
    assert check.bound == pytest.approx(check.baseline - 0.01)
    assert "at most 0.01 is allowed" in check.reason


def test_without_a_baseline_the_output_says_the_comparison_did_not_run(
    run: shipyard.Run,
) -> None:
    decision = run["evaluate"].outputs["blessing"].load()
    assert decision.blessed
    assert any("No baseline yet" in note and "accuracy 0.01" in note for note in decision.notes)


def _artifacts(
    root: Path, table: pa.Table, model: Model
) -> tuple[Examples, ModelEvaluation, ModelBlessing]:
    examples = Examples(root / "examples")
    examples.write_split("eval", table)
    return examples, ModelEvaluation(root / "evaluation"), ModelBlessing(root / "blessing")


def test_unseen_and_missing_labels_are_excluded_and_counted(
    run: shipyard.Run, tmp_path: Path
) -> None:
    model = run["train"].outputs["model"]
    rows = pacsv.read_csv(PENGUINS).slice(0, 40)
    species = rows.column("species").to_pylist()
    species[0] = "Emperor"
    species[1] = "Emperor"
    species[2] = None
    table = rows.set_column(
        rows.column_names.index("species"), "species", pa.array(species, pa.string())
    )
    examples, evaluation, blessing = _artifacts(tmp_path, table, model)
    evaluate.fn(examples, model, evaluation, blessing, thresholds={"accuracy": {"min": 0.5}})
    result = evaluation.load()
    assert result.overall["excluded"] == {"missing_label": 1, "unseen_label": 2}
    assert result.overall["count"] == 37
    assert evaluation.properties["excluded_rows"] == {"missing_label": 1, "unseen_label": 2}
    assert blessing.properties["blessed"] is True


def test_errors_name_the_problem(run: shipyard.Run, tmp_path: Path) -> None:
    model = run["train"].outputs["model"]
    rows = pacsv.read_csv(PENGUINS).slice(0, 10)
    examples, evaluation, blessing = _artifacts(tmp_path, rows.drop_columns(["species"]), model)
    with pytest.raises(DataError, match="no label column 'species'"):
        evaluate.fn(examples, model, evaluation, blessing)
    with pytest.raises(NotFoundError, match="'test' split"):
        evaluate.fn(examples, model, evaluation, blessing, split="test")
    with pytest.raises(InvalidParameterError, match="min_slice_size"):
        evaluate.fn(examples, model, evaluation, blessing, min_slice_size=0)
    unseen = rows.set_column(
        rows.column_names.index("species"), "species", pa.array(["Emperor"] * 10)
    )
    examples, evaluation, blessing = _artifacts(tmp_path / "unseen", unseen, model)
    with pytest.raises(DataError, match="no row"):
        evaluate.fn(examples, model, evaluation, blessing)


def test_importing_the_components_loads_no_data_library() -> None:
    code = (
        "import shipyard.components.push, shipyard.components.evaluate.component\n"
        "from shipyard.components import evaluate as e, push as p\n"
        "assert e.name == 'evaluate' and p.name == 'push', (e, p)\n"
        "import sys, shipyard.components as c\n"
        "assert c.evaluate.name == 'evaluate' and c.push.name == 'push'\n"
        "import shipyard.components.evaluate.metrics\n"
        "assert c.evaluate.name == 'evaluate', c.evaluate\n"
        "from shipyard.components.evaluate import evaluate\n"
        "assert evaluate is c.evaluate\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    heavy = "numpy torch onnxruntime pyarrow polars onnx".split()
    check = (
        "import sys, shipyard.components as c\n"
        "c.evaluate, c.push\n"
        f"loaded = [m for m in {heavy!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True)


def test_report_names_the_model_and_shows_its_blessing_beside_the_baseline(
    run: shipyard.Run,
) -> None:
    evaluation = run["evaluate_vs_baseline"].outputs["evaluation"]
    model = run["train"].outputs["model"]
    baseline = run["train_baseline"].outputs["model"]
    result = evaluation.load()
    assert result.overall["model"]["id"] == model.id is not None
    assert result.overall["model"]["name"] == model.name
    assert result.overall["model"]["estimator"] == "dnn"
    assert result.overall["baseline"]["name"] == baseline.name
    page = (evaluation.path / "report.html").read_text(encoding="utf-8")
    about = page[page.index("<table class='about'>") : page.index("<h2>Blessing</h2>")]
    assert f"{model.name} #{model.id} (dnn)" in about
    assert f"<th>version</th><td>{model.id} in the metadata store" in about
    assert "<td>multiclass</td>" in about and "<td>species</td>" in about
    assert f"{baseline.name} #{baseline.id}" in about
    blessing = page[page.index("<h2>Blessing</h2>") : page.index("<h2>Metrics</h2>")]
    assert "<p class='ok'>Blessed: 3 checks passed.</p>" in blessing
    checks = blessing.count("<td class='name'>")
    assert checks == 3  # accuracy min, accuracy and log_loss regressions
    metrics = page[page.index("<table class='metrics'>") :]
    assert "<th>baseline</th><th>change</th>" in metrics
    accuracy = result.metrics["accuracy"]
    baseline_accuracy = result.overall["baseline"]["metrics"]["accuracy"]
    assert accuracy is not None
    row = metrics[metrics.index("<td class='name'>accuracy</td>") :].split("</tr>")[0]
    assert f"{baseline_accuracy:.4g}" in row and f"{accuracy - baseline_accuracy:+.3g}" in row


def test_regression_evaluation_keeps_a_sample_of_predictions_for_its_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    raw, inputs = _prepared("body_mass_g")
    trained = train(**inputs, task="regression", estimator="linear", epochs=5)
    checked = evaluate(examples=raw.outputs.examples, model=trained.outputs.model)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = shipyard.run(Pipeline("penguins_mass", nodes=[checked]), store=store, progress=False)
    assert result.ok, [n.error for n in result.failed]
    evaluation = result["evaluate"].outputs["evaluation"]
    overall = evaluation.load().overall
    assert overall["task"] == "regression"
    points = overall["points"]
    assert points["rows"] == overall["count"] == len(points["actual"]) == len(points["predicted"])
    assert all(2000 < mass < 7000 for mass in points["actual"])  # grams, the raw label
    page = (evaluation.path / "report.html").read_text(encoding="utf-8")
    assert 'aria-label="Predicted vs actual"' in page
    assert 'aria-label="Residual vs predicted"' in page
    assert "<td>regression</td>" in page and "<td>body_mass_g</td>" in page
