"""Ingest on Ray Data, against the real local cluster: the local path's Examples and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest, options
from shipyard.components.ingest.options import read_options
from shipyard.components.ingest.partitions import (
    Partition,
    PartitionCount,
    SourceLayout,
    plan_partitions,
    read_partition,
)
from shipyard.components.ingest.plan import SourceSpec, plan_sources
from shipyard.components.ingest.ray_data import (
    RAY_MIN_BYTES_VARIABLE,
    environment_bytes,
    use_ray,
)
from shipyard.dsl.context import TaskContext, running_task
from shipyard.errors import ConfigError
from shipyard.testing.ray import LocalRayCluster

_ON_RAY = """
import json, sys
import ray
from pathlib import Path
from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest
from shipyard.dsl.context import TaskContext, running_task
from shipyard.components.ingest import options
from shipyard.errors import DataError
options.DEFAULT_CHUNK_BYTES = int(sys.argv[3])  # as the small_chunks fixture: many chunks
ray.init(address=sys.argv[1], log_to_driver=False)
for output, params in json.loads(sys.argv[2]):
    examples = Examples(Path(output))
    with running_task(TaskContext("ingest", engine="ray")):  # as the Ray engine runs it
        try:
            ingest.fn(examples=examples, **params)
            print(json.dumps({"properties": examples.properties}))
        except DataError as exc:
            print(json.dumps({"error": str(exc), "row": exc.row, "column": exc.column}))
"""


CHUNK_BYTES = 2048
"""Text parsed per chunk, here and on Ray: the first chunk (the types) is ~80 lines."""


@pytest.fixture(autouse=True)
def _chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options, "DEFAULT_CHUNK_BYTES", CHUNK_BYTES)


def _csv(path: Path, rows: int, *, bad_line: int | None = None) -> Path:
    """A CSV of numbers, words and nulls; `bad_line` (1-based, the header is line 1) holds
    a ragged row."""
    lines = ["id,x,city,flag"]
    for i in range(rows):
        x = "" if i % 97 == 0 else f"{i * 0.37:.3f}"
        lines.append(f'{i},{x},"c{i % 13}",{"true" if i % 3 else "false"}')
    if bad_line is not None:
        lines[bad_line - 1] = "1,2"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_on_ray(cluster: LocalRayCluster, jobs: list[tuple[Path, dict[str, Any]]]) -> list[Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _ON_RAY,
            cluster.address,
            json.dumps(jobs, default=str),
            str(CHUNK_BYTES),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={
            **os.environ,
            RAY_MIN_BYTES_VARIABLE: "0",
            "SHIPYARD_INGEST_RAY_PARTITION_BYTES": "3000",
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.strip().splitlines()[-len(jobs) :]]


def _local(tmp_path: Path, name: str, **params: Any) -> Examples:
    examples = Examples(tmp_path / name)
    ingest.fn(examples=examples, **params)
    return examples


def test_ray_examples_are_the_local_ones_row_for_row(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    csv = _csv(tmp_path / "data.csv", 2000)
    table = pq.read_table(_parquet_source(tmp_path, csv))
    (tmp_path / "data.jsonl").write_text(
        "\n".join(json.dumps(row) for row in table.to_pylist()) + "\n"
    )
    jobs: dict[str, dict[str, Any]] = {
        "csv": {"source": str(csv)},
        "csv_key": {"source": str(csv), "splits": {"a": 1, "b": 2, "c": 3}, "split_key": ["city"]},
        "column": {"source": str(csv), "split_column": "city"},
        "parquet": {"source": str(tmp_path / "pq")},
        "jsonl": {"source": str(tmp_path / "data.jsonl")},
        "inputs": {"source": {"train": str(csv), "eval": str(tmp_path / "data.jsonl")}},
    }
    results = _run_on_ray(
        ray_cluster, [(tmp_path / f"ray-{name}", params) for name, params in jobs.items()]
    )
    for (name, params), result in zip(jobs.items(), results, strict=True):
        local = _local(tmp_path, f"local-{name}", **params)
        on_ray = Examples(tmp_path / f"ray-{name}")
        assert result["properties"] == local.properties, name
        assert on_ray.splits == local.splits, name
        for split in local.splits:
            assert on_ray.read(split).equals(local.read(split)), (name, split)
        assert max(len(list((on_ray.path / s).glob("*.parquet"))) for s in on_ray.splits) > 1


def _parquet_source(tmp_path: Path, csv: Path) -> Path:
    """The CSV's rows as two Parquet files of several row groups each."""
    local = _local(tmp_path, "from-csv", source=str(csv), splits={"all": 1})
    table = local.read("all")
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(table.slice(0, 1200), folder / "a.parquet", row_group_size=300)
    pq.write_table(table.slice(1200), folder / "b.parquet", row_group_size=300)
    return folder


def test_a_bad_row_deep_in_a_file_is_named_by_its_line(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    csv = _csv(tmp_path / "bad.csv", 2000, bad_line=1500)
    words = _csv(tmp_path / "words.csv", 2000)
    text = words.read_text().splitlines()
    text[1800] = "1800,many,c1,true"  # a word among numbers after the first chunk
    words.write_text("\n".join(text) + "\n")
    jobs = [
        (tmp_path / "ray-bad", {"source": str(csv)}),
        (tmp_path / "ray-words", {"source": str(words)}),
    ]
    bad, mixed = _run_on_ray(ray_cluster, jobs)
    assert "line 1500" in bad["error"], bad
    assert str(csv) in bad["error"]
    with pytest.raises(Exception, match="line 1500") as local:
        _local(tmp_path, "local-bad", source=str(csv))
    assert bad["error"] == str(local.value)
    local_words = _local(tmp_path, "local-words", source=str(words))
    assert mixed["properties"] == local_words.properties
    assert {"name": "x", "type": "string"} in mixed["properties"]["columns"]


def test_byte_ranges_cover_every_line_once(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    lines = [json.dumps({"i": i, "s": "x" * (i % 50)}) for i in range(500)]
    path.write_text("\n".join(lines))  # no line feed at the end
    options = read_options()
    sources = plan_sources(SourceSpec(source=str(path)))
    schema = pa.schema([("i", pa.int64()), ("s", pa.string())])
    for size in (7, 64, 1000, 10**6):
        partitions = plan_partitions(sources, options, partition_bytes=size)  # type: ignore[arg-type]
        assert [p.index for p in partitions] == list(range(len(partitions)))
        seen: list[int] = []
        for partition in partitions:
            layout = SourceLayout(schema, schema, options)
            for batch in read_partition(partition, layout, PartitionCount()):
                seen += batch.table.column("i").to_pylist()
        assert seen == list(range(500)), size


def test_a_compressed_file_is_one_partition(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n" * 1000))
    sources = plan_sources(SourceSpec(source=str(path)))
    partitions = plan_partitions(sources, read_options(), partition_bytes=10)  # type: ignore[arg-type]
    assert partitions == [Partition(0, None, str(path), "csv")]


def test_only_the_ray_engine_with_large_file_sources_uses_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _csv(tmp_path / "data.csv", 10)
    sources = plan_sources(SourceSpec(source=str(csv)))
    query = plan_sources(SourceSpec(query="SELECT 1 AS a"))
    monkeypatch.setenv(RAY_MIN_BYTES_VARIABLE, "0")
    assert not use_ray(sources)  # outside a run
    with running_task(TaskContext("ingest", engine="threads")):
        assert not use_ray(sources)
    with running_task(TaskContext("ingest", engine="ray")):
        assert use_ray(sources)
        assert not use_ray(query)  # a query stays on the node
        monkeypatch.setenv(RAY_MIN_BYTES_VARIABLE, str(csv.stat().st_size + 1))
        assert not use_ray(sources)
        monkeypatch.delenv(RAY_MIN_BYTES_VARIABLE)
        assert not use_ray(sources)  # 256 MiB by default


def test_a_bad_threshold_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RAY_MIN_BYTES_VARIABLE, "lots")
    with pytest.raises(ConfigError, match=f"{RAY_MIN_BYTES_VARIABLE}.*'lots'"):
        environment_bytes(RAY_MIN_BYTES_VARIABLE, 5)
