"""Every CSV entry point reads every row or names the file, line and column (issue 10).

The files are real and larger than the fast path's read block (4 MiB), where Arrow's
whole-file reader used to lose the rows after a stray quote without a word.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import Examples
from shipyard.artifacts.exported_model import TensorSpec
from shipyard.components.ingest import fast_csv, ingest, integrity, load_dataset
from shipyard.errors import DataError
from shipyard.predictions.inputs import open_input

if TYPE_CHECKING:
    from collections.abc import Callable

ROWS = 336_776  # as the file: one stray quote, 330,778 rows counted, "OK"
STRAY = 200_000


def big_csv(path: Path, *, row: str | None = None, at: int = STRAY) -> Path:
    """Write ROWS rows (about 7.8 MB, two fast-path blocks); `row` replaces row `at`."""
    rows = [f"{i},{i * 0.5},name{i % 13},{i % 7}" for i in range(ROWS)]
    if row is not None:
        rows[at] = row
    path.write_text("id,x,name,k\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > 2 * fast_csv.INFERENCE_BYTES * 0.9
    return path


def read_fast(path: Path) -> int:
    return load_dataset(path).num_rows


def read_careful(path: Path) -> int:
    return load_dataset(path, max_rows=10**9).num_rows  # max_rows takes the careful reader


def read_ingest(path: Path) -> int:
    examples = Examples(path.parent / "examples")
    examples.path.mkdir(exist_ok=True)
    ingest.fn(examples, source=path)
    return sum(examples.read(split).num_rows for split in examples.splits)


def read_predict(path: Path) -> int:
    inputs = [TensorSpec(name, "float", (None, 1), optional=True) for name in ("x", "a")]
    with open_input(path, inputs) as stream:
        return sum(batch.table.num_rows for batch in stream)


ENTRY_POINTS: dict[str, Callable[[Path], int]] = {
    "load_dataset": read_fast,
    "careful reader": read_careful,
    "ingest": read_ingest,
    "predict": read_predict,
}


@pytest.fixture(params=list(ENTRY_POINTS))
def read(request: pytest.FixtureRequest) -> Callable[[Path], int]:
    return ENTRY_POINTS[request.param]


def test_a_good_big_file_is_read_whole_by_every_entry_point(
    tmp_path: Path, read: Callable[[Path], int]
) -> None:
    assert read(big_csv(tmp_path / "good.csv")) == ROWS


def test_a_stray_quote_past_the_first_block_names_its_line_and_column(
    tmp_path: Path, read: Callable[[Path], int]
) -> None:
    path = big_csv(tmp_path / "stray.csv", row=f'{STRAY},1.0,name,"3')
    with pytest.raises(DataError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and "column 'k'" in message, message
    assert f"line {STRAY + 2} opens a quoted value" in message, message
    assert "newlines_in_values=True" in message


def test_a_stray_quote_mid_row_names_its_line_and_column(
    tmp_path: Path, read: Callable[[Path], int]
) -> None:
    path = big_csv(tmp_path / "stray.csv", row=f'{STRAY},1.0,"name,3')
    with pytest.raises(DataError, match=rf"column 'name': line {STRAY + 2} opens a quoted"):
        read(path)


def test_blank_lines_and_old_mac_line_breaks_lose_no_row(
    tmp_path: Path, read: Callable[[Path], int]
) -> None:
    blank = tmp_path / "blank.csv"
    blank.write_text("a,b\n1,x\n\n2,y\n\r\n3,z\n")
    assert read(blank) == 3
    mac = tmp_path / "mac.csv"
    mac.write_bytes(b"a,b\r1,x\r2,y\r3,z\r")
    assert read(mac) == 3


def test_a_word_past_row_50000_warns_with_its_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "late.csv"
    rows = [f"{i},{i * 0.5}" for i in range(60_000)]
    rows[50_001] = "50001,abc"
    path.write_text("id,x\n" + "\n".join(rows) + "\n")
    for read in (read_fast, read_careful):
        caplog.clear()
        table = load_dataset(path) if read is read_fast else load_dataset(path, max_rows=10**6)
        assert table.schema.field("x").type == pa.string()
        [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert "late.csv, column 'x': mixed types" in warning
        assert "line 50003 has 'abc'" in warning and "read as text" in warning


def test_a_word_past_the_first_block_widens_the_column_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = big_csv(tmp_path / "word.csv", row=f"{STRAY},1.0,name,seven")
    table = load_dataset(path)
    assert table.num_rows == ROWS and table.schema.field("k").type == pa.string()
    assert table["k"][STRAY].as_py() == "seven"
    assert any(f"{STRAY + 2}" in r.getMessage() and "'k'" in r.getMessage() for r in caplog.records)


def not_text() -> dict[str, bytes]:
    parquet = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), parquet)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("data.csv", "a,b\n1,2\n")
    return {
        "gzip-compressed|.gz suffix": gzip.compress(b"a,b\n1,2\n"),
        "zip archive|unzip it": archive.getvalue(),
        "Parquet file|format='parquet'": parquet.getvalue(),
        "binary|NUL byte": b"\x7fELF\x02\x01\x01\x00\x00\x00\n\x01,\x02\n",
        "line 1 is not valid|encoding='latin-1'": b"caf\xe9,b\n1,2\n",
        "line 1 is not valid|byte 2": b"na\xefme,b\n1,2\n",
    }


@pytest.mark.parametrize(("expected", "content"), list(not_text().items()), ids=list(not_text()))
def test_bytes_that_are_not_csv_text_are_a_data_error(
    tmp_path: Path, read: Callable[[Path], int], expected: str, content: bytes
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read(path)
    message = str(caught.value)
    for part in (str(path), *expected.split("|")):
        assert part in message, f"{part!r} not in {message!r}"


def test_count_lines_counts_every_kind_of_line_break() -> None:
    assert integrity.count_lines(b"") == 0
    assert integrity.count_lines(b"a\nb\n") == 2
    assert integrity.count_lines(b"a\nb") == 2
    assert integrity.count_lines(b"a\r\nb\r\n") == 2
    assert integrity.count_lines(b"a\rb\rc") == 3
    assert integrity.count_rows(b"a\n\nb\r\n\r\nc\r\r") == 3


def test_unclosed_quote_ignores_quotes_inside_bare_values() -> None:
    data = b'h,x\n5\'11",a\n"ok, fine",b\n1,"open\n'
    assert integrity.unclosed_quote(data, first_line=1, quote_char='"', delimiter=",") == (
        4,
        1,
        '1,"open',
    )


def test_a_row_count_short_of_the_lines_is_refused_with_the_lines() -> None:
    data = b"a\n1\n2\n3\n"
    integrity.check_row_count(data, 3, path="f.csv", first_line=1, header=True)
    with pytest.raises(DataError, match=r"f\.csv: lines 10 to 13 hold 3 rows but 2 were read"):
        integrity.check_row_count(data, 2, path="f.csv", first_line=10, header=True)


def test_count_file_lines_reads_in_chunks_like_count_lines(tmp_path: Path) -> None:
    for data in (b"", b"a\nb\n", b"a\nb", b"a\r\nb\r\n", b"a\rb\rc", b"x\r\ny\r\nz", b"\r\n\r\n"):
        path = tmp_path / "lines.csv"
        path.write_bytes(data)
        for chunk_bytes in (1, 2, 3, 1 << 20):  # CRLF split across chunks included
            assert integrity.count_file_lines(path, chunk_bytes=chunk_bytes) == (
                integrity.count_lines(data)
            ), (data, chunk_bytes)
