"""Statistics on Ray Data, against the real local cluster: the local path's statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.statistics.ray_data import (
    RAY_MIN_ROWS_VARIABLE,
    ray_min_rows,
    row_groups,
    running_on_ray,
    use_ray,
)
from shipyard.errors import ConfigError
from shipyard.testing.ray import LocalRayCluster
from tests.components.statistics.test_statistics_partial import _assert_same, _table

pytest.importorskip("ray")


def _split(directory: Path) -> pa.Table:
    """Write a 6,000-row split as two files of three row groups each; return the table."""
    table = _table(6000, seed=11)
    directory.mkdir(parents=True)
    pq.write_table(table.slice(0, 3000), directory / "part-00000.parquet", row_group_size=1000)
    pq.write_table(table.slice(3000), directory / "part-00001.parquet", row_group_size=1000)
    return pq.read_table(directory)


_ON_RAY = """
import json, sys
import ray
from pathlib import Path
from shipyard.components.statistics.ray_data import ray_statistics, use_ray
ray.init(address=sys.argv[1], log_to_driver=False)
options = StatisticsOptions(weight_column="w", slice_columns=("city",), quantile_sample_rows=400)
split = Path(sys.argv[2])
print(json.dumps([use_ray(split), ray_statistics(split, options).to_json()]))
"""


def test_statistics_on_the_cluster_are_the_local_paths(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    directory = tmp_path / "train"
    table = _split(directory)
    assert len(row_groups(directory)) == 6
    done = subprocess.run(
        [sys.executable, "-c", _ON_RAY, ray_cluster.address, str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, RAY_MIN_ROWS_VARIABLE: "5000"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    chosen, merged = json.loads(done.stdout.strip().splitlines()[-1])
    assert chosen is True
    local = compute_dataset_statistics(
        table, weight_column="w", slice_columns=["city"], quantile_sample_rows=400
    ).to_json()
    x = "x"
    assert (
        merged["features"][x]["numeric"]["quantiles"]
        == local["features"][x]["numeric"]["quantiles"]
    )
    _assert_same(merged, local)


def test_the_local_path_is_kept_off_ray_and_for_small_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "train"
    _split(directory)
    assert not running_on_ray()  # this process never connected
    monkeypatch.setenv(RAY_MIN_ROWS_VARIABLE, "0")
    assert not use_ray(directory)
    monkeypatch.setenv(RAY_MIN_ROWS_VARIABLE, "many")
    with pytest.raises(ConfigError, match=f"{RAY_MIN_ROWS_VARIABLE} must be a whole number"):
        ray_min_rows()
    monkeypatch.delenv(RAY_MIN_ROWS_VARIABLE)
    assert ray_min_rows() == 1_000_000
