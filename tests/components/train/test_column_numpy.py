"""`column_numpy`: pyarrow's `to_numpy` result, without importing pandas for numeric columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.artifacts import Examples
from shipyard.components.train.data import column_numpy
from tests.environment import child_environment


@pytest.mark.parametrize(
    "column",
    [
        pa.chunked_array([pa.array([1, 2, 3], pa.int64())]),
        pa.chunked_array([pa.array([1.5, -2.0], pa.float32()), pa.array([3.25], pa.float32())]),
        pa.chunked_array([pa.array(np.arange(10, dtype=np.uint16)).slice(3, 4)]),
        pa.chunked_array([pa.array([], pa.int8()), pa.array([7, -8], pa.int8())]),
        pa.chunked_array([], pa.float64()),
        pa.chunked_array([pa.array([1, None, 3], pa.int32())]),  # nulls: pyarrow's path
        pa.chunked_array([pa.array(["a", "b"])]),
    ],
)
def test_it_gives_what_to_numpy_gives(column: pa.ChunkedArray) -> None:
    expected = np.asarray(column.to_numpy(zero_copy_only=False))
    got = column_numpy(column)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_reading_a_split_for_training_imports_no_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas on its first numpy conversion (0.2-0.3 s): the training's
    worker process reads its split and converts its columns without it."""
    examples = Examples(tmp_path / "examples")
    x = pa.array([1.0, 2.0], pa.float32())
    examples.write_split("train", pa.table({"x": x, "y": pa.array([0, 1], pa.int64())}))
    script = f"""
import sys
from shipyard.artifacts import Examples
from shipyard.components.train.data import column_numpy

table = Examples({str(examples.path)!r}).read("train")
print(column_numpy(table.column("x")).sum() + column_numpy(table.column("y")).sum())
print(sorted(m for m in ("pandas", "pyarrow.dataset") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=child_environment(checkout_first=True),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4.0", "[]"]
