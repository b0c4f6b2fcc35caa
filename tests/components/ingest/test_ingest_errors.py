"""Bad input: every problem names the file, line and column, and nothing is registered."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shipyard import Pipeline
from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest, load_dataset
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from .conftest import Workspace


def fail(
    examples: Examples, pattern: str, error: type[Exception] = DataError, **params: object
) -> str:
    with pytest.raises(error) as caught:
        ingest.fn(examples, **params)
    message = str(caught.value)
    for part in pattern.split("|"):
        assert part in message, f"{part!r} not in {message!r}"
    return message


def test_missing_file(tmp_path: Path, examples: Examples) -> None:
    fail(examples, f"{tmp_path / 'nope.csv'}|no such file", source=tmp_path / "nope.csv")


def test_missing_relative_path_says_where_it_was_looked_for(
    tmp_path: Path, examples: Examples, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    message = fail(
        examples,
        f"data/nope.csv: no such file or directory (looked for {tmp_path / 'data/nope.csv'}; "
        f"the nearest directory that exists is {tmp_path})",
        source="data/nope.csv",
    )
    assert "pipeline" not in message  # data given on the command line has no pipeline file


def test_glob_matching_nothing(tmp_path: Path, examples: Examples) -> None:
    fail(examples, "*.csv|the glob matches no file", source=tmp_path / "*.csv")


def test_empty_directory(tmp_path: Path, examples: Examples) -> None:
    (tmp_path / "folder").mkdir()
    fail(examples, "folder|holds no data file", source=tmp_path / "folder")


def test_empty_file(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    fail(examples, "empty.csv|the file is empty", source=path)


def test_header_only_is_an_error(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "header.csv"
    path.write_text("a,b\n")
    fail(examples, "header.csv|has no rows", source=path)


@pytest.mark.parametrize("chunked", [False, True])
def test_ragged_row_names_the_line(
    tmp_path: Path, examples: Examples, chunked: bool, request: pytest.FixtureRequest
) -> None:
    if chunked:
        request.getfixturevalue("small_chunks")
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n" + "1,2,3\n" * 100 + "\n4,5\n" + "6,7,8\n")
    fail(examples, "ragged.csv|line 103 has 2 fields|header has 3|'4,5'", source=path)


def test_unterminated_quote(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('a,b\n1,x\n2,"oops\n3,y\n')
    fail(
        examples,
        "quote.csv|column 'b'|line 3|quote '\"' is not closed|newlines_in_values=True",
        source=path,
    )


@pytest.mark.parametrize("late", [False, True])
def test_non_utf8_bytes_suggest_the_encoding_parameter(
    tmp_path: Path, examples: Examples, late: bool, small_chunks: None
) -> None:
    path = tmp_path / "latin.csv"
    head = b"a,b\n" + (b"1,plain\n" * 100 if late else b"")
    path.write_bytes(head + b"2,caf\xe9\n3,ok\n")
    line = 102 if late else 2
    fail(examples, f"latin.csv|column 'b'|line {line} is not valid UTF-8|encoding=", source=path)


@pytest.mark.parametrize("where", ["first rows", "later chunk"])
def test_words_among_numbers_make_a_text_column_not_an_error(
    tmp_path: Path,
    examples: Examples,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    from shipyard.components.ingest import options

    path = tmp_path / "mixed.csv"
    if where == "first rows":
        path.write_text("n,s\n1,x\n2,y\nabc,z\n4,w\n")
        line, values = 4, ["1", "2", "abc", "4"]
    else:  # the type was inferred as int64 from the first chunk: everything is read again
        monkeypatch.setattr(options, "DEFAULT_CHUNK_BYTES", 256)
        path.write_text("n,s\n" + "".join(f"{i},x\n" for i in range(200)) + "abc,y\n")
        line, values = 202, [*map(str, range(200)), "abc"]
    ingest.fn(examples, source=path, splits={"all": 1})
    assert examples.properties["columns"][0] == {"name": "n", "type": "string"}
    assert examples.properties["rows"] == {"all": len(values)}
    assert load_dataset(path)["n"].to_pylist() == values
    assert sorted(p.name for p in examples.path.iterdir()) == ["all"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and "mixed.csv, column 'n': mixed types" in warnings[0]
    assert f"line {line} has 'abc'" in warnings[0] and "read as text" in warnings[0]


def test_value_not_fitting_column_types(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "typed.csv"
    path.write_text("n\n1\n2\nthree\n")
    fail(
        examples,
        "typed.csv|column 'n'|line 4 has 'three'|from column_types",
        source=path,
        column_types={"n": "int64"},
    )


def test_words_among_words_are_not_mixed(tmp_path: Path) -> None:
    path = tmp_path / "words.csv"
    path.write_text("code\nA1\nB2\n3\n")
    assert load_dataset(path)["code"].to_pylist() == ["A1", "B2", "3"]


def test_duplicate_column_names(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a\n1,2,3\n")
    fail(examples, "dup.csv|column 'a'|names column 'a' 2 times|columns 1, 3", source=path)


@pytest.mark.parametrize(
    ("params", "parameter", "suggestion"),
    [
        ({"split_key": ["fare", "zipp"]}, "split_key", "Did you mean 'zip'?"),
        ({"split_column": "splt"}, "split_column", "Did you mean 'split'?"),
        ({"column_types": {"Zip": "string"}}, "column_types", "Did you mean 'zip'?"),
    ],
)
def test_parameter_naming_a_missing_column(
    tmp_path: Path, examples: Examples, params: dict[str, object], parameter: str, suggestion: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text("zip,fare,split\n1,2,train\n")
    message = fail(
        examples,
        f"The '{parameter}' parameter of ingest must be the name of a column|"
        f"The columns are: zip, fare, split.|{suggestion}",
        InvalidParameterError,
        source=path,
        **params,
    )
    assert "Got '" in message


def test_unknown_type_name(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "data.csv"
    path.write_text("zip\n1\n")
    fail(
        examples,
        "column_types['zip']|must be an Arrow type name|Got 'strng'",
        InvalidParameterError,
        source=path,
        column_types={"zip": "strng"},
    )


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({}, "exactly one of 'source'"),
        ({"source": "a.csv", "query": "SELECT 1"}, "Got both"),
        ({"source": "x.csv", "splits": {"train": 0}}, "The \"splits['train']\" parameter"),
        ({"source": "x.csv", "splits": {"a/b": 1}}, "The 'splits' parameter"),
        ({"source": "x.csv", "span": 1}, "The 'span' parameter of ingest must be None unless"),
        ({"source": {"train": "x.csv"}, "splits": {"a": 1}}, "own source"),
        ({"source": "x.csv", "split_column": "s", "split_key": ["k"]}, "The 'split_key'"),
        ({"source": "s3://bucket/x.csv"}, "takes local files"),
        ({"query": "SELECT 1", "span": 2}, "The 'span' parameter"),
        ({"source": "x.csv", "delimiter": ",,"}, "The 'delimiter' parameter"),
        ({"source": "x.csv", "encoding": "klingon"}, "The 'encoding' parameter"),
        ({"source": "x-{SPAN}.csv", "span_range": [3, 1]}, "The 'span_range' parameter"),
    ],
)
def test_invalid_parameters(examples: Examples, params: dict[str, object], pattern: str) -> None:
    fail(examples, pattern, InvalidParameterError, **params)


def test_failure_through_the_runner_registers_nothing(project: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n3\n")
    node = ingest(source=str(data))
    result = project.run(Pipeline("bad", nodes=[node]))
    assert not result.ok
    outcome = result["ingest"]
    assert outcome.state == "failed"
    assert outcome.error is not None
    assert "data.csv: ragged row: line 3" in str(outcome.error)
    assert isinstance(outcome.error.__cause__, DataError)
    with project.project() as opened:
        assert opened.store.list_artifacts(run_id=result.id) == []
    data.write_text("a,b\n1,2\n3,4\n")
    fixed = project.run(Pipeline("bad", nodes=[ingest(source=str(data))]))
    assert fixed.ok
    assert sum(fixed["ingest"].outputs["examples"].properties["rows"].values()) == 2
