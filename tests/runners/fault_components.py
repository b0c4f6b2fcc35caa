"""Components that meet the platform's faults: a blob too big for its disk, a store removed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact, Metrics


@component
def blob(out: Out[Artifact], *, size_bytes: int = 1000) -> None:
    """Writes `size_bytes` bytes: more than a tiny disk holds."""
    (out.path / "blob.bin").write_bytes(b"x" * size_bytes)


@component
def first(out: Out[Metrics]) -> None:
    out.save({"v": 1.0})


@component
def remove_store(inp: Metrics, out: Out[Metrics], *, url: str, how: str) -> None:
    """Deletes or replaces the store's SQLite file, or drops its PostgreSQL database."""
    if how == "drop":
        server = make_url(url)
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{server.database}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        if how == "replace":  # a restored backup: another file, moved into place
            shutil.copy(path, path.with_name("backup.db"))
            os.replace(path.with_name("backup.db"), path)
        else:
            path.unlink()
    out.save({"v": inp.load()["v"]})


def store_removed(url: str, how: str) -> Pipeline:
    """Two nodes; the second removes the store while the run goes on."""
    return Pipeline("vanishing", nodes=[remove_store(inp=first().outputs.out, url=url, how=how)])
