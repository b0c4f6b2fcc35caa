"""Spans and versions: the latest by default, a span or a range on request, and the cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shipyard import Pipeline
from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest
from shipyard.components.ingest.component import source_state
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from .conftest import Workspace


def add_span(root: Path, span: int, version: int, rows: int, name: str = "part.csv") -> Path:
    folder = root / f"span-{span}" / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("span,version,i\n" + "".join(f"{span},{version},{i}\n" for i in range(rows)))
    return path


@pytest.fixture
def spans(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    add_span(root, 1, 1, 3)
    add_span(root, 2, 1, 4)
    add_span(root, 2, 2, 5)
    add_span(root, 10, 1, 6)  # numerically the latest, though "10" < "2" as text
    add_span(root, 10, 1, 2, name="more.csv")
    (root / "span-x").mkdir()
    (root / "span-x" / "v1").mkdir()
    (root / "span-x" / "v1" / "junk.csv").write_text("not,a,span\n")
    return root


def read_all(examples: Examples) -> list[dict[str, int]]:
    return [row for split in examples.splits for row in examples.read(split).to_pylist()]


PATTERN = "span-{SPAN}/v{VERSION}/*.csv"


def test_latest_span_and_version_by_default(spans: Path, examples: Examples) -> None:
    ingest.fn(examples, source=spans / PATTERN)
    rows = read_all(examples)
    assert len(rows) == 8 and {(r["span"], r["version"]) for r in rows} == {(10, 1)}
    props = examples.properties
    assert props["span"] == 10 and props["version"] == 1 and props["files"] == 2
    assert props["source"] == str(spans / PATTERN)


def test_a_chosen_span_at_its_latest_or_chosen_version(spans: Path, tmp_path: Path) -> None:
    latest, first = Examples(tmp_path / "a"), Examples(tmp_path / "b")
    ingest.fn(latest, source=spans / PATTERN, span=2)
    ingest.fn(first, source=spans / PATTERN, span=2, version=1)
    assert {(r["span"], r["version"]) for r in read_all(latest)} == {(2, 2)}
    assert len(read_all(latest)) == 5
    assert {(r["span"], r["version"]) for r in read_all(first)} == {(2, 1)}
    assert first.properties["version"] == 1


def test_span_range(spans: Path, examples: Examples) -> None:
    ingest.fn(examples, source=spans / PATTERN, span_range=[1, 2])
    assert sorted({(r["span"], r["version"]) for r in read_all(examples)}) == [(1, 1), (2, 2)]
    assert examples.properties["spans"] == [1, 2]
    assert examples.properties["span"] == 2
    assert examples.properties["versions"] == [1, 2]


def test_span_without_version(tmp_path: Path, examples: Examples) -> None:
    for span in (3, 4):
        (tmp_path / f"day={span}.csv").write_text(f"d\n{span}\n")
    ingest.fn(examples, source=tmp_path / "day={SPAN}.csv", splits={"all": 1})
    assert examples.read("all")["d"].to_pylist() == [4]
    assert examples.properties["span"] == 4 and "version" not in examples.properties


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"span": 5}, "span 5 does not exist; the spans on disk are 1, 2, 10"),
        ({"span": 2, "version": 7}, "span 2 has no version 7; its versions are 1, 2"),
        ({"span_range": [3, 9]}, "no span in the range 3..9"),
    ],
)
def test_missing_span_or_version(
    spans: Path, examples: Examples, params: dict[str, object], pattern: str
) -> None:
    with pytest.raises(DataError, match=pattern):
        ingest.fn(examples, source=spans / PATTERN, **params)


def test_pattern_matching_nothing(tmp_path: Path, examples: Examples) -> None:
    with pytest.raises(DataError, match="no file matches the span pattern"):
        ingest.fn(examples, source=tmp_path / PATTERN)


def test_source_state_follows_new_spans_and_files(spans: Path) -> None:
    params = {"source": str(spans / PATTERN)}
    before = source_state(params)
    assert [Path(f[0]).parent.name for f in before["None"]["files"]] == ["v1", "v1"]
    assert before["None"]["spans"] == [10]
    assert source_state(params) == before
    add_span(spans, 11, 1, 1)
    after = source_state(params)
    assert after["None"]["spans"] == [11]
    unresolved = source_state({"source": str(spans / "nothing-{SPAN}.csv")})
    assert "no file matches" in unresolved["unresolved"]
    assert source_state({"query": "SELECT 1"}) is None


def test_new_span_reruns_ingest_unchanged_data_is_cached(project: Workspace) -> None:
    root = project.root / "data"
    add_span(root, 1, 1, 3)

    def pipeline() -> Pipeline:
        return Pipeline("spans", nodes=[ingest(source=str(root / PATTERN))])

    first = project.run(pipeline())
    assert first.ok and first["ingest"].state == "complete"
    assert first["ingest"].outputs["examples"].properties["span"] == 1
    assert project.run(pipeline())["ingest"].state == "cached"
    add_span(root, 2, 1, 4)
    third = project.run(pipeline())
    assert third["ingest"].state == "complete"
    assert third["ingest"].outputs["examples"].properties["span"] == 2
    assert sum(third["ingest"].outputs["examples"].properties["rows"].values()) == 4


def test_new_file_in_a_glob_reruns_ingest(project: Workspace) -> None:
    (project.root / "a.csv").write_text("x\n1\n")

    def pipeline() -> Pipeline:
        return Pipeline("glob", nodes=[ingest(source=str(project.root / "*.csv"))])

    assert project.run(pipeline()).ok
    assert project.run(pipeline())["ingest"].state == "cached"
    (project.root / "b.csv").write_text("x\n2\n")
    result = project.run(pipeline())
    assert result["ingest"].state == "complete"
    assert result["ingest"].outputs["examples"].properties["files"] == 2


def test_relative_source_resolves_against_the_pipeline_file(project: Workspace) -> None:
    from shipyard.dsl import load_pipeline

    folder = project.root / "pipelines"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "part-1.csv").write_text("x\n1\n2\n")
    (folder / "taxi.py").write_text(
        "from shipyard import Pipeline\n"
        "from shipyard.components.ingest import ingest\n\n"
        "def taxi() -> Pipeline:\n"
        "    return Pipeline('taxi', nodes=[ingest(source='data/part-{SPAN}.csv')])\n"
    )
    result = project.run(load_pipeline(folder / "taxi.py"))
    assert result.ok
    properties = result["ingest"].outputs["examples"].properties
    assert properties["source"] == str(folder / "data" / "part-{SPAN}.csv")
    assert properties["span"] == 1


def test_last_n_spans_reads_the_newest_spans_at_their_latest_versions(
    spans: Path, examples: Examples
) -> None:
    ingest.fn(examples, source=spans / PATTERN, last_n_spans=2)
    assert sorted({(r["span"], r["version"]) for r in read_all(examples)}) == [(2, 2), (10, 1)]
    assert len(read_all(examples)) == 5 + 8
    assert examples.properties["spans"] == [2, 10]
    assert examples.properties["versions"] == [1, 2]
    assert "span_note" not in examples.properties


def test_last_n_spans_reads_the_spans_there_are_and_says_so(
    spans: Path, examples: Examples, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="shipyard.components.ingest"):
        ingest.fn(examples, source=spans / PATTERN, last_n_spans=5)
    assert examples.properties["spans"] == [1, 2, 10]
    note = "last_n_spans=5 asked for 5 spans; only 3 exist (1, 2, 10), so ingest read those."
    assert examples.properties["span_note"] == note
    assert note in caplog.text


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"last_n_spans": 0}, "'last_n_spans' parameter of ingest must be an int >= 1"),
        ({"last_n_spans": 2, "span": 1}, "None when 'span' or 'span_range' is given"),
        ({"last_n_spans": 2, "span_range": [1, 2]}, "None when 'span' or 'span_range'"),
    ],
)
def test_last_n_spans_refuses_bad_values_and_other_span_choices(
    spans: Path, examples: Examples, params: dict[str, object], pattern: str
) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        ingest.fn(examples, source=spans / PATTERN, **params)


def test_last_n_spans_needs_a_span_pattern(tmp_path: Path, examples: Examples) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(InvalidParameterError, match="None unless the source is a pattern"):
        ingest.fn(examples, source=tmp_path / "a.csv", last_n_spans=2)


def test_a_new_span_moves_the_rolling_window_and_the_cache_key(spans: Path) -> None:
    params = {"source": str(spans / PATTERN), "last_n_spans": 2}
    assert source_state(params)["None"]["spans"] == [2, 10]
    add_span(spans, 11, 1, 1)
    assert source_state(params)["None"]["spans"] == [10, 11]
