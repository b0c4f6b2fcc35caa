"""`BatchStream`: the common shape every reader returns, a schema and tables in order.

Each `Batch` remembers where its rows came from (a file or a query) and the row number of
its first row, so that a problem found later (a null split name, a failed cast) can still
name the file and row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    import pyarrow as pa


@dataclass(frozen=True)
class Batch:
    """Rows read from one place.

    Attributes:
        table: The rows, with the stream's schema.
        origin: The file (or database) they were read from.
        first_row: The 1-based number of the first row among that origin's data rows.
    """

    table: pa.Table
    origin: str
    first_row: int


class BatchStream:
    """A schema, known before any row is consumed, and the batches that follow it.

    Use it as a context manager, or call `close`, so files and threads are released even
    when the caller stops early.
    """

    def __init__(self, schema: pa.Schema, batches: Iterator[Batch], *, description: str) -> None:
        self.schema = schema
        self.description = description
        self._batches = batches

    def __iter__(self) -> Iterator[Batch]:
        return self._batches

    def close(self) -> None:
        """Stop reading: close files, stop worker threads."""
        close: Any = getattr(self._batches, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
