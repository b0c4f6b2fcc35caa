"""Line-aligned chunks of a text file, and parsing them in parallel, in order.

A CSV file without line breaks inside values (the default) or a JSON-lines file can be cut
at any line break. `line_chunks` reads the file (decompressing and transcoding to UTF-8 on
the way) in blocks of about `chunk_bytes`, cut at the last line break, and numbers the
first line of each chunk so errors can name the exact line. `map_ordered` parses chunks in
a thread pool (Arrow releases the GIL) and hands results back in file order, keeping at
most `workers + ahead` chunks in memory: memory stays bounded however large the file is.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from shipyard.components.ingest.sources import COMPRESSIONS

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator
    from pathlib import Path

T = TypeVar("T")
R = TypeVar("R")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LineChunk:
    """Whole lines of a file, as UTF-8 bytes.

    Attributes:
        path: The file.
        data: The bytes, ending with a line break except maybe at the end of the file.
        first_line: The 1-based line number of the first line of `data` in the file.
        index: The chunk's position in the file, from 0.
    """

    path: Path
    data: bytes
    first_line: int
    index: int


def line_chunks(
    path: Path, *, chunk_bytes: int, encoding: str = "utf-8"
) -> Generator[LineChunk, None, None]:
    """Read `path` as UTF-8 text in chunks of whole lines, decompressing by extension.

    A UTF-8 byte-order mark at the start is dropped. A line longer than `chunk_bytes` makes
    a longer chunk.
    """
    stream = open_text(path, encoding)
    try:
        remainder = b""
        line = 1
        index = 0
        while True:
            block = stream.read(chunk_bytes)
            if not block:
                break
            data = remainder + block if remainder else block
            if index == 0 and line == 1 and data.startswith(_BOM):
                data = data[len(_BOM) :]
            cut = data.rfind(b"\n")
            if cut < 0:
                remainder = data
                continue
            chunk, remainder = data[: cut + 1], data[cut + 1 :]
            yield LineChunk(path, chunk, line, index)
            line += chunk.count(b"\n")
            index += 1
        if remainder or index == 0:
            yield LineChunk(path, remainder, line, index)
    finally:
        stream.close()


def open_text(path: Path, encoding: str = "utf-8") -> Any:
    """Open `path` as an Arrow input stream of UTF-8 bytes, decompressed by its extension."""
    import pyarrow as pa

    compression = next(
        (codec for suffix, codec in COMPRESSIONS.items() if path.name.lower().endswith(suffix)),
        None,
    )
    stream = pa.input_stream(str(path), compression=compression)
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
        stream = pa.transcoding_input_stream(stream, encoding, "utf-8")
    return stream


def map_ordered(
    function: Callable[[T], R], items: Iterable[T], *, workers: int, ahead: int = 0
) -> Iterator[tuple[T, Future[R]]]:
    """Run `function` over `items` in a thread pool; yield `(item, future)` in input order.

    At most `workers + ahead` items are in flight. Closing the iterator early cancels what
    has not started and waits for what has, so no thread outlives it.
    """
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipyard-ingest") as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            for item in items:
                pending.append((item, pool.submit(function, item)))
                if len(pending) > workers + ahead - 1:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for _, future in pending:
                future.cancel()
            close = getattr(items, "close", None)
            if close is not None:
                close()


def line_of_row(chunk: LineChunk, row: int, *, skip_first: bool) -> int:
    """Return the line number of data row `row` (0-based) of `chunk`, skipping blank lines.

    Args:
        chunk: The chunk the row was parsed from (one row per non-blank line).
        row: The row's index among the chunk's rows.
        skip_first: Whether the chunk's first non-blank line is a header, not a row.
    """
    count = -1 if skip_first else 0
    for offset, text in enumerate(chunk.data.split(b"\n")):
        if not text.strip(b"\r"):
            continue
        if count == row:
            return chunk.first_line + offset
        count += 1
    return chunk.first_line
