"""Standard artifact types, each with its own codec (Parquet, JSON). No pickle."""

from __future__ import annotations

import html
import json
import math
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

PREVIEW_ROWS = 5


class Examples(Artifact):
    """Tabular examples as Parquet files, one directory per split (`train`, `eval`, ...).

    Layout: `path/<split>/part-00000.parquet` (a split may have several parts).

    Example:
        >>> examples.write_split("train", table)
        >>> examples.read("train").num_rows
    """

    @property
    def splits(self) -> list[str]:
        """The split names, sorted."""
        if not self.path.is_dir():
            return []
        return sorted(
            p.name for p in self.path.iterdir() if p.is_dir() and any(p.glob("*.parquet"))
        )

    def write_split(self, split: str, table: pa.Table) -> None:
        """Write one split as a Parquet part and record its row count in `properties`."""
        import pyarrow.parquet as pq

        directory = self.path / split
        directory.mkdir(parents=True, exist_ok=True)
        part = len(list(directory.glob("*.parquet")))
        pq.write_table(table, directory / f"part-{part:05d}.parquet")
        counts = self.properties.setdefault("rows", {})
        counts[split] = int(counts.get(split, 0)) + table.num_rows

    def read(self, split: str, *, columns: list[str] | None = None) -> pa.Table:
        """Read one split into memory.

        Raises:
            NotFoundError: The split does not exist.
        """
        import pyarrow.parquet as pq

        directory = self.path / split
        if not directory.is_dir():
            raise NotFoundError(
                f"{self.uri}: no split {split!r}; "
                f"the splits are {', '.join(self.splits) or 'none'}."
            )
        parts = list(directory.glob("*.parquet"))
        if len(parts) == 1 and not parts[0].name.startswith(("_", ".")):
            # as a file: `read_table` of a directory imports `pyarrow.dataset`, which imports
            # pandas (0.2-0.3 s of CPU in the training's worker, docs/benchmarks/cold11.md)
            return pq.ParquetFile(parts[0]).read(columns=columns)
        return pq.read_table(directory, columns=columns)

    def save(self, value: dict[str, pa.Table]) -> None:
        """Write every split of a `{split: table}` mapping."""
        for split, table in value.items():
            self.write_split(split, table)

    def load(self) -> dict[str, pa.Table]:
        """Read every split into memory."""
        return {split: self.read(split) for split in self.splits}

    def preview(self) -> dict[str, Any]:
        import pyarrow.parquet as pq

        preview: dict[str, Any] = {"splits": {}}
        for split in self.splits:
            dataset = pq.ParquetDataset(self.path / split)
            head = dataset.read().slice(0, PREVIEW_ROWS).to_pylist()
            preview["splits"][split] = {
                "rows": sum(f.metadata.num_rows for f in _fragments(dataset)),
                "columns": dataset.schema.names,
                "head": head,
            }
        return preview

    def _preview_html(self) -> str:
        parts = []
        for split, info in self.preview()["splits"].items():
            header = "".join(f"<th>{html.escape(name)}</th>" for name in info["columns"])
            rows = "".join(
                "<tr>"
                + "".join(f"<td>{html.escape(str(row[c]))}</td>" for c in info["columns"])
                + "</tr>"
                for row in info["head"]
            )
            parts.append(
                f"<p><b>{html.escape(split)}</b>: {info['rows']} rows</p>"
                f"<table><tr>{header}</tr>{rows}</table>"
            )
        return "".join(parts)


def _fragments(dataset: Any) -> list[Any]:
    return list(dataset.fragments)


class Metrics(Artifact):
    """Named numeric metrics, stored as `metrics.json` and mirrored into `properties`."""

    FILENAME = "metrics.json"

    def save(self, value: dict[str, float]) -> None:
        """Write the metrics; every value must be a finite number.

        Raises:
            DataError: A value is not a finite number.
        """
        clean: dict[str, float] = {}
        for key, number in value.items():
            if (
                isinstance(number, bool)
                or not isinstance(number, int | float)
                or not math.isfinite(number)
            ):
                raise DataError(f"metric {key!r} must be a finite number, got {number!r}")
            clean[str(key)] = float(number)
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / self.FILENAME).write_text(json.dumps(clean, indent=2, sort_keys=True))
        self.properties.update(clean)

    def load(self) -> dict[str, float]:
        """Read the metrics back.

        Raises:
            NotFoundError: The artifact holds no metrics.
        """
        data: dict[str, float] = json.loads(self.required_file(self.FILENAME).read_text())
        return data

    def preview(self) -> dict[str, Any]:
        return {"metrics": self.load() if (self.path / self.FILENAME).exists() else {}}
