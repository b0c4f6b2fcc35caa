from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shipyard.dsl import load_pipeline, parse_param
from shipyard.dsl.loading import load_function
from shipyard.errors import DefinitionError, InvalidParameterError, NotFoundError

PIPELINE = """
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics

@component
def make(out: Out[Metrics], *, value: float = 1.0) -> None:
    out.save({"v": value})

def first(value: float = 2.0) -> Pipeline:
    return Pipeline("first", nodes=[make(value=value)])
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.py"
    path.write_text(text)
    return path


def test_loads_a_pipeline_function_with_params(tmp_path: Path) -> None:
    path = write(tmp_path, PIPELINE)
    pipeline = load_pipeline(path, params={"value": 5.0})
    assert pipeline.name == "first"
    assert pipeline.nodes[0].parameters == {"value": 5.0}


def test_several_candidates_need_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, PIPELINE + "\nsecond = Pipeline('second', nodes=[make()])\n")
    with pytest.raises(NotFoundError, match="found first, second"):
        load_pipeline(path)
    assert load_pipeline(path, name="second").name == "second"


def test_bad_params_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, PIPELINE)
    with pytest.raises(InvalidParameterError, match="has no parameter 'valu'"):
        load_pipeline(path, params={"valu": 1})
    with pytest.raises(InvalidParameterError, match="'value' parameter of first must be a float"):
        load_pipeline(path, params={"value": "high"})


def test_import_errors_point_at_the_user_file(tmp_path: Path) -> None:
    path = write(tmp_path, "import os\n\nraise RuntimeError('broken on purpose')\n")
    with pytest.raises(DefinitionError, match="broken on purpose") as info:
        load_pipeline(path)
    assert "line 3" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such pipeline file"):
        load_pipeline(tmp_path / "nope.py")


def test_parse_param() -> None:
    assert parse_param("n=3") == ("n", 3)
    assert parse_param("name=abc") == ("name", "abc")
    assert parse_param("xs=[1,2]") == ("xs", [1, 2])
    with pytest.raises(InvalidParameterError):
        parse_param("novalue")


def test_an_error_in_the_pipeline_function_points_at_the_user_file(tmp_path: Path) -> None:
    file = tmp_path / "broken.py"
    file.write_text(
        "from shipyard import Pipeline\n\n"
        "def broken() -> Pipeline:\n"
        "    return Pipeline('b', nodes=[ingest()])\n"
    )
    with pytest.raises(DefinitionError) as error:
        load_pipeline(file)
    message = str(error.value)
    assert "broken() raised NameError: name 'ingest' is not defined" in message
    assert f'"{file}", line 4, in broken' in message


FUTURE_PIPELINE = """
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.dsl.constraints import Ge

@component
def make(out: Out[Metrics], *, epochs: Annotated[int, Ge(1)] = 1, tag: str = "") -> None:
    out.save({"v": epochs})

SEEN = {}

def future(
    epochs: Annotated[int, Ge(1)] = 2, tag: str = "a", data: Path = Path("x.csv")
) -> Pipeline:
    SEEN.update(epochs=epochs, tag=tag, data=data)
    return Pipeline("future", nodes=[make(epochs=epochs, tag=tag)])
"""


def test_params_are_checked_in_files_with_postponed_annotations(tmp_path: Path) -> None:
    path = write(tmp_path, FUTURE_PIPELINE)
    with pytest.raises(InvalidParameterError) as info:
        load_pipeline(path, params={"epochs": "abc"})
    assert str(info.value) == (
        f"{path}: The 'epochs' parameter of future must be an int >= 1. Got 'abc' (a str) "
        f"instead. Fix --param epochs=..."
    )
    with pytest.raises(InvalidParameterError, match=r"must be an int >= 1\. Got 0 instead"):
        load_pipeline(path, params={"epochs": 0})
    pipeline = load_pipeline(path, params={"epochs": 3, "tag": 7, "data": "other.csv"})
    assert pipeline.nodes[0].parameters == {"epochs": 3, "tag": "7"}
    module = next(
        m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(path)
    )
    assert module.SEEN == {"epochs": 3, "tag": "7", "data": Path("other.csv")}


def test_load_function_imports_through_the_same_loader(tmp_path: Path) -> None:
    (tmp_path / "neighbour.py").write_text("SCALE = 3\n")
    (tmp_path / "fit.py").write_text(
        "from neighbour import SCALE\n\ndef run_fn(x):\n    return x * SCALE\n"
    )
    function = load_function(
        tmp_path / "fit.py", "run_fn", file_parameter="run_fn_file", function_parameter="run_fn"
    )
    assert function(2) == 6
    with pytest.raises(DefinitionError) as info:
        load_function(tmp_path / "fit.py", "fit", file_parameter="f", function_parameter="fn")
    assert "no function 'fit' (got nothing); the functions defined there are run_fn" in str(
        info.value
    )
    with pytest.raises(NotFoundError, match=r"run_fn_file: .* does not exist"):
        load_function(tmp_path / "no.py", "x", file_parameter="run_fn_file", function_parameter="x")
    (tmp_path / "bad.py").write_text("x = 1\nraise ValueError('bad on purpose')\n")
    with pytest.raises(DefinitionError, match="bad on purpose") as failed:
        load_function(tmp_path / "bad.py", "x", file_parameter="f", function_parameter="x")
    assert 'bad.py", line 2' in str(failed.value)
