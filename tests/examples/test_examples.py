"""The examples run as documented, end to end, each from a copy in a temporary directory (a
push writes `models/` next to the pipeline file, which must not be the repository):

- penguins (`make demo`) trains, evaluates and pushes a model; a rerun through the CLI is
  fully cached (push is not yet: an expected failure, see the test);
- census trains the seed demo's DNN and pushes it;
- taxi completes on the latest span and pushes; the drift demo stops at validation with the
  anomalies span 2 was made to have.

The metric bars are what the examples reached on the development machine minus a margin
(docs/benchmarks.md, "Example models").
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import shipyard
from shipyard.errors import AnomaliesFound
from shipyard.runners import Run
from tests.cli.command import shipyard as shipyard_command
from tests.cli.imported import imported_modules, loaded

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)


@dataclass
class Demo:
    """An example run once in its own project, shared by the tests that inspect it."""

    folder: Path
    store: str
    artifacts: Path
    result: Run = field(init=False)

    def cli(self, *args: str) -> list[str]:
        """`shipyard ARGS` against this project's store and artifacts."""
        return [*args, "--store", self.store, "--artifact-root", str(self.artifacts)]


def copy_example(name: str, into: Path) -> Path:
    """Copy `examples/NAME` (without pushed models or run state) into `into`."""
    target = into / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("models", ".*"))
    return target


def run_example(folder: Path, file: str = "pipeline.py", **params: Any) -> Run:
    result = shipyard.run(folder / file, params=params, progress=False)
    assert result.ok, [(n.name, n.error) for n in result.failed]
    return result


def eval_metrics(result: Run) -> dict[str, float]:
    evaluation = result["evaluate"].outputs["evaluation"].load()
    return {k: v for k, v in evaluation.metrics.items() if v is not None}


def assert_pushed(result: Run, folder: Path, name: str) -> Path:
    """The model was blessed and pushed as version 1 of `name`, next to the pipeline file."""
    assert result["evaluate"].outputs["blessing"].properties["blessed"] is True
    pushed = result["push"].outputs["pushed"].load()
    version = folder / "models" / name / "1"
    assert pushed.pushed and pushed.version == 1 and Path(str(pushed.path)) == version
    assert {"model.onnx", "signature.json", "model_card.json"} <= {
        p.name for p in version.iterdir()
    }
    return version


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`make demo` once: the penguins pipeline run in a fresh project."""
    root = tmp_path_factory.mktemp("demo")
    demo = Demo(copy_example("penguins", root), f"sqlite:///{root / 'store.db'}", root / "art")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        demo.result = shipyard.run(
            demo.folder / "pipeline.py",
            store=demo.store,
            artifact_root=str(demo.artifacts),
            progress=False,
        )
    assert demo.result.ok, [(n.name, n.error) for n in demo.result.failed]
    return demo


def test_penguins_demo_pushes_a_model(penguins: Demo) -> None:
    result = penguins.result
    metrics = eval_metrics(result)
    assert metrics["accuracy"] >= 0.97, metrics
    version = assert_pushed(result, penguins.folder, "penguins")
    assert json.loads((version / "signature.json").read_text())["label_vocabulary"] == [
        "Adelie",
        "Gentoo",
        "Chinstrap",
    ]
    evaluation = result["evaluate"].outputs["evaluation"].load()
    assert {s["name"] for s in evaluation.slices} == {
        "island=Biscoe",
        "island=Dream",
        "island=Torgersen",
    }


def test_penguins_demo_rerun_is_fully_cached(penguins: Demo) -> None:
    # `make demo` again: the real CLI, in a new process, against the same project.
    again = shipyard_command(penguins.folder, *penguins.cli("run", "pipeline.py", "--json"))
    assert again.returncode == 0, again.stderr
    states = {name: node["state"] for name, node in json.loads(again.stdout)["nodes"].items()}
    assert set(states) == set(penguins.result.nodes)
    assert states == dict.fromkeys(states, "cached")
    assert sorted(p.name for p in (penguins.folder / "models" / "penguins").iterdir()) == ["1"]


def test_penguins_cached_rerun_imports_no_heavy_library(penguins: Demo, tmp_path: Path) -> None:
    # A rerun that reuses every node needs no ML or data library, only the store's.
    again, modules = imported_modules(
        penguins.folder, *penguins.cli("run", "pipeline.py"), scratch=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "(8 cached)" in again.stderr  # the display writes to stderr
    heavy = ("torch", "onnx", "onnxruntime", "polars", "duckdb", "lightgbm", "PIL")
    assert loaded(modules, *heavy, "pyarrow", "numpy", "fsspec", "sqlalchemy.orm") == []


def test_census_trains_the_seed_dnn_and_pushes_it(tmp_path: Path) -> None:
    folder = copy_example("census", tmp_path)
    result = run_example(folder, epochs=2)  # the default (20, early stopping) takes ~3x longer
    metrics = eval_metrics(result)
    assert metrics["accuracy"] >= 0.72 and metrics["auc"] >= 0.80, metrics
    assert_pushed(result, folder, "census")
    model = result["train"].outputs["model"]
    assert model.card()["parameters"]["hidden_units"] == [100, 70, 50, 25]
    signature = model.signature()
    assert signature["task"] == "binary"
    assert "high_wage" not in {i["name"] for i in signature["inputs"]}
    slices = result["evaluate"].outputs["evaluation"].load().slices
    assert {s["feature"] for s in slices} == {"region", "ethnicity"}
    assert all(s["metrics"] for s in slices)


def test_census_data_has_the_derived_label_and_no_wage() -> None:
    with (EXAMPLES / "census" / "data" / "census.csv").open() as handle:
        header = handle.readline().strip()
    assert header.split(",") == [
        "high_wage",
        "education",
        "experience",
        "ethnicity",
        "smsa",
        "region",
        "parttime",
    ]


def test_taxi_trains_on_the_latest_span_and_pushes(tmp_path: Path) -> None:
    folder = copy_example("taxi", tmp_path)
    result = run_example(folder)
    examples = result["ingest"].outputs["examples"]
    assert examples.properties["span"] == 2
    assert sum(examples.properties["rows"].values()) == 5000
    report = result["validate_examples"].outputs["anomalies"].load()
    assert not report.errors
    metrics = eval_metrics(result)
    # 93 % of span 2's riders tip: accuracy is about that share; AUC shows some signal.
    assert metrics["accuracy"] >= 0.9 and metrics["auc"] >= 0.58, metrics
    assert_pushed(result, folder, "taxi")


def test_an_older_span_is_a_parameter_away(tmp_path: Path) -> None:
    result = run_example(copy_example("taxi", tmp_path), span=1)
    assert result["ingest"].outputs["examples"].properties["span"] == 1


def test_drift_demo_stops_at_validation_with_the_anomalies() -> None:
    result = shipyard.run(EXAMPLES / "taxi" / "drift.py", progress=False)
    assert not result.ok
    failed = result["validate_examples"]
    assert failed.state == "failed" and failed.error is not None
    assert isinstance(failed.error.__cause__, AnomaliesFound)
    message = str(failed.error.__cause__)
    assert "'distance' drifted from the baseline" in message
    assert "'Shipyard Cabs'" in message
    assert "'local' is required but missing" in message
    assert "skews between" not in message  # train and eval of one span are alike
    assert {n.state for name, n in result.nodes.items() if name != "validate_examples"} == {
        "complete"
    }
