"""A fast path for reading whole plain CSV files into memory, for `load_dataset`.

The careful reader streams a file in line-aligned chunks, so that ingest's memory stays
bounded and every error names its line; that costs about 40% more time than Arrow's own
whole-file reader, which `load_dataset` (reading everything into memory anyway) can use
instead. Same parser, same null strings, same type inference from the first 4 MB, so the
same table; it is used only for uncompressed local CSV files read with default options.
Where Polars' parser provably gives the same table (`polars_csv`: numbers and text, no
quotes, every line one full row), it reads the file instead, in about half the CPU time.

It keeps the careful reader's guarantees (`integrity`): bytes that are not CSV text are
refused; the rows read are counted against the file's lines, so an unterminated quote that
swallows the lines after it (Arrow reads on without a word) never goes unnoticed; and every
row of a text column is checked for numbers mixed with words. On any problem (a ragged row,
bad quoting, a blank line, bytes that are not UTF-8) it steps aside, and the careful reader
reads every row or reports the problem with its file, line and column.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from shipyard.components.ingest import polars_csv
from shipyard.components.ingest.columns import starts_like_numbers, warn_if_mixed
from shipyard.components.ingest.integrity import PROBE_BYTES, check_text, count_file_lines
from shipyard.components.ingest.sources import FileSource, QuerySource

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions

PLAIN_SUFFIXES = (".csv", ".txt")
INFERENCE_BYTES = 4 << 20  # as the careful reader: types come from the first 4 MB


def eligible(source: FileSource | QuerySource, options: ReadOptions) -> bool:
    """Whether the fast path reads `source` exactly as the careful reader would."""
    return (
        isinstance(source, FileSource)
        and source.format == "csv"
        and len(source.files) == 1
        and source.files[0].suffix.lower() in PLAIN_SUFFIXES
        and not options.column_types
        and options.delimiter in (None, ",")
        and options.header
        and options.column_names is None
        and options.quote_char == '"'
        and options.encoding.lower().replace("-", "") == "utf8"
        and options.null_values is None
        and not options.newlines_in_values
    )


def read_fast(source: FileSource) -> pa.Table | None:
    """Read the file with Arrow's multithreaded reader; None when anything is off.

    Args:
        source: One plain CSV file (see `eligible`).

    Raises:
        DataError: The file is not CSV text (compressed, binary, a non-UTF-8 header).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = source.files[0]
    try:
        with path.open("rb") as file:
            head = file.read(INFERENCE_BYTES)
    except OSError:
        return None  # the careful reader names the problem
    check_text(head[:PROBE_BYTES], path=str(path))
    plain = polars_csv.read_plain(path, head, list(pacsv.ConvertOptions().null_values))
    if plain is not None:
        return plain
    # Count the lines while Arrow parses the file (both release the GIL): the check costs
    # about no time on two cores, and neither holds the whole file as Python bytes.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipyard-count") as pool:
        lines = pool.submit(count_file_lines, path)
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(use_threads=True, block_size=INFERENCE_BYTES),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
            )
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
            return None  # the careful reader reports the problem precisely
        names = table.column_names
        if not names or len(set(names)) != len(names) or table.num_rows == 0:
            return None  # duplicate names, header-only files: the careful reader's answer
        if table.num_rows + 1 != lines.result():
            return None  # a row was lost, or blank lines: the careful reader reads or names it
    return _settle_types(table, str(path))


def _settle_types(table: pa.Table, path: str) -> pa.Table | None:
    """Settle types as the careful reader does: empty columns become strings; bytes that are
    not text go back to it (it reports them). Numbers with words among them stay text, with
    a warning. Arrow types a column from its first block and widens it to text for a word in
    any later block, so a text column whose first block is mostly numbers is checked in
    full; one whose first block is text is text, as the careful reader infers it (from the
    first 4 MB)."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.with_type(pa.string()), column.cast(pa.string()))
        elif pa.types.is_binary(field.type):
            return None
        elif pa.types.is_string(field.type) and column.num_chunks:
            if starts_like_numbers(column.chunk(0)):
                # Verified: no blank line, no value across lines, so row r is on line r + 2.
                warn_if_mixed(column, field.name, path=path, line_of=lambda row: row + 2)
    return table
