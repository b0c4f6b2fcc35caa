from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from shipyard import Out, component
from shipyard.artifacts import Examples, Metrics
from shipyard.dsl import Component
from shipyard.errors import DefinitionError


@component
def summarize(examples: Examples, summary: Out[Metrics], *, split: str = "train") -> None:
    """Summarize one split."""
    summary.save({"rows": examples.read(split).num_rows})


def test_decorated_function_keeps_name_doc_and_plain_function(tmp_path: Path) -> None:
    assert isinstance(summarize, Component)
    assert summarize.name == "summarize"
    assert summarize.__doc__ == "Summarize one split."
    assert list(inspect.signature(summarize).parameters) == ["examples", "summary", "split"]
    import pyarrow as pa

    examples = Examples(tmp_path / "in")
    examples.write_split("train", pa.table({"x": [1, 2, 3]}))
    metrics = Metrics(tmp_path / "out")
    summarize.fn(examples, metrics, split="train")
    assert metrics.load() == {"rows": 3.0}


def test_ports_and_parameters_are_read_from_the_signature() -> None:
    assert set(summarize.inputs) == {"examples"}
    assert summarize.inputs["examples"].type is Examples
    assert set(summarize.outputs) == {"summary"}
    assert summarize.outputs["summary"].type is Metrics
    assert summarize.parameters["split"].default == "train"


def test_optional_input_and_named_component() -> None:
    @component(name="custom", version="2", cache=False)
    def fn(a: Examples, out: Out[Metrics], b: Examples | None = None) -> None: ...

    assert fn.name == "custom"
    assert fn.cache is False
    assert fn.inputs["b"].optional and not fn.inputs["a"].optional


def test_every_declaration_problem_is_reported_at_once() -> None:
    with pytest.raises(DefinitionError) as info:

        @component
        def bad(x: int, *args: int, y: object, out: Out[Metrics] = None, **kw: int) -> int:  # type: ignore[assignment]
            return 1

    message = str(info.value)
    assert "Invalid component 'bad'" in message
    assert "test_component.py" in message
    for expected in (
        "'x' must be keyword-only",
        "*args",
        "'y' has an unsupported type",
        "output 'out' must not have a default",
        "returns None",
    ):
        assert expected in message
    assert len(info.value.problems) == 6


def test_unannotated_and_bad_default_parameters_fail() -> None:
    with pytest.raises(DefinitionError, match="has no type annotation"):

        @component
        def no_hint(*, x) -> None: ...  # type: ignore[no-untyped-def]

    with pytest.raises(DefinitionError, match="default of parameter 'n'"):

        @component
        def bad_default(*, n: int = "3") -> None: ...  # type: ignore[assignment]


def test_fingerprint_changes_with_version() -> None:
    def body(out: Out[Metrics]) -> None: ...

    assert component(version="1")(body).fingerprint != component(version="2")(body).fingerprint
    assert component(version="1")(body).fingerprint == component(version="1")(body).fingerprint


def test_definition_error_is_a_type_error() -> None:
    assert issubclass(DefinitionError, TypeError)


def test_writes_must_name_path_parameters() -> None:
    def writer(out: Out[Metrics], *, target: str = "x") -> None: ...

    with pytest.raises(DefinitionError, match="writes= names 'target', 'nope', which must be Path"):
        component(writes=("target", "nope"))(writer)


def test_preload_takes_module_names_and_leaves_the_fingerprint_alone() -> None:
    def body(out: Out[Metrics]) -> None: ...

    slow = component(preload=("torch", "onnx.compose"))(body)
    assert slow.preload == ("torch", "onnx.compose")
    assert slow.fingerprint == component(body).fingerprint
    with pytest.raises(DefinitionError, match=r"preload= takes a tuple of module names.*'torch'"):
        component(preload="torch")(body)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match=r"got \('torch', 'not a module'\)"):
        component(preload=("torch", "not a module"))(body)
