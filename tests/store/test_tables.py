"""The schema's column types: JSON as `jsonb` on PostgreSQL, without importing its dialect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from shipyard.store.sql import SqlStore, tables
from tests.environment import child_environment

OPEN_SQLITE_STORE = """
import sys
from shipyard.store import open_store

open_store(sys.argv[1]).close()
loaded = sorted(name for name in sys.modules if name.startswith("sqlalchemy.dialects.postgresql"))
print(" ".join(loaded))
"""


def test_opening_a_sqlite_store_does_not_import_the_postgresql_dialect(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", OPEN_SQLITE_STORE, f"sqlite:///{tmp_path}/s.db"],
        capture_output=True,
        text=True,
        env=child_environment(checkout_first=True),
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", "")


def test_json_columns_are_jsonb_on_postgresql_and_json_on_sqlite(store_url: str) -> None:
    SqlStore(store_url).close()
    expected = "JSONB" if make_url(store_url).get_backend_name() == "postgresql" else "JSON"
    engine = create_engine(store_url)
    try:
        inspector = inspect(engine)
        found = {
            (table.name, column.name): type(reflected["type"]).__name__
            for table in tables.metadata.sorted_tables
            for column in table.columns
            if isinstance(column.type, tables.JsonDocument)
            for reflected in inspector.get_columns(table.name)
            if reflected["name"] == column.name
        }
    finally:
        engine.dispose()
    assert found == {
        ("contexts", "properties"): expected,
        ("executions", "parameters"): expected,
        ("artifacts", "properties"): expected,
        ("firings", "properties"): expected,
        ("trigger_leases", "properties"): expected,
        ("trigger_leases", "seen"): expected,
        ("audit_events", "detail"): expected,
        ("jobs", "metadata"): expected,
        ("jobs", "resources"): expected,
    }
