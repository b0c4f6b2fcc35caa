from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Metrics
from shipyard.errors import DefinitionError


@component
def load(examples: Out[Examples], *, source: Path, rows: int = 10) -> None: ...


@component
def stats(examples: Examples, metrics: Out[Metrics], *, split: str = "train") -> None: ...


@component
def check(metrics: Metrics, report: Out[Metrics]) -> None: ...


def test_upstream_nodes_are_included_in_dependency_order() -> None:
    a = load(source="data.csv")
    b = stats(examples=a.outputs.examples)
    c = check(metrics=b.outputs.metrics)
    pipeline = Pipeline("p", nodes=[c])
    assert [n.name for n in pipeline.nodes] == ["load", "stats", "check"]
    assert pipeline.downstream(["stats"]) == {"stats", "check"}


def test_relative_paths_resolve_against_the_declaring_file() -> None:
    node = load(source="data/x.csv")
    assert node.parameters["source"] == str(Path(__file__).parent / "data" / "x.csv")
    assert load(source="/abs/x.csv").parameters["source"] == "/abs/x.csv"


def test_all_wiring_problems_are_listed_at_once_with_file_and_line() -> None:
    a = load(source="d.csv")
    b = stats(examples=a.outputs.examples)
    wrong_type = stats(examples=b.outputs.metrics, split=5).with_options(name="s2")  # line A
    missing = check()  # type: ignore[call-arg]
    unknown = load(source="d.csv", rowz=3).with_options(name="l2")  # type: ignore[call-arg]
    node_not_ref = check(metrics=b).with_options(name="c2")
    with pytest.raises(DefinitionError) as info:
        Pipeline("p", nodes=[wrong_type, missing, unknown, node_not_ref])
    message = str(info.value)
    assert message.startswith("Invalid pipeline definition: 5 problems in pipeline 'p'")
    assert "stats(examples=...) expects Examples, got Metrics from node 'stats'" in message
    assert "The 'split' parameter of stats must be a str. Got 5 instead." in message
    assert "check() is missing its required input 'metrics' (Metrics)" in message
    assert "unknown argument 'rowz'" in message and "Did you mean 'rows'?" in message
    assert "got the node 'stats' itself. Use stats(...).outputs.metrics." in message
    assert "test_pipeline.py, line" in message


def test_duplicate_node_names_are_rejected_with_a_fix() -> None:
    a = load(source="d.csv")
    b1 = stats(examples=a.outputs.examples)
    b2 = stats(examples=a.outputs.examples)
    with pytest.raises(DefinitionError, match=r"2 nodes are named 'stats'.*with_options\(name="):
        Pipeline("p", nodes=[b1, b2])
    b2.with_options(name="stats_eval")
    assert len(Pipeline("p", nodes=[b1, b2]).nodes) == 3


def test_cycles_are_detected() -> None:
    a = load(source="d.csv")
    b = stats(examples=a.outputs.examples)
    c = stats(examples=a.outputs.examples).with_options(name="other")
    b.after(c)
    c.after(b)
    with pytest.raises(
        DefinitionError, match=r"cycle: (stats -> other -> stats|other -> stats -> other)"
    ):
        Pipeline("p", nodes=[b])


def test_unknown_output_fails_immediately_with_suggestion() -> None:
    a = load(source="d.csv")
    with pytest.raises(DefinitionError, match=r"no output 'exampels'.*Did you mean 'examples'"):
        a.outputs.exampels  # noqa: B018


def test_bad_pipeline_name_and_empty_pipeline() -> None:
    with pytest.raises(DefinitionError, match="pipeline name 'a b'"):
        Pipeline("a b", nodes=[load(source="x")])
    with pytest.raises(DefinitionError, match="at least one node"):
        Pipeline("empty", nodes=[])


def test_outputs_passed_as_arguments_are_rejected() -> None:
    a = load(source="d.csv", examples=None)  # type: ignore[call-arg]
    with pytest.raises(DefinitionError, match="'examples' is an output; the runner provides it"):
        Pipeline("p", nodes=[a])
