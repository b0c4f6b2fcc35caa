"""What a fully cached rerun would cost if the store spoke to SQLite through `sqlite3` directly.

A measurement for a proposal, not product code. The penguins example is run once; then a
cached rerun (`shipyard run pipeline.py`, every node cached) runs with a `sitecustomize.py`
that records every SQL statement SQLAlchemy sends to SQLite, with its parameters. Three
children are then timed, each in a new interpreter on a fresh copy of the store file:

- `sqlalchemy`: open the store as the run does (`shipyard.store.open_store`: SQLAlchemy,
  the engine, the schema check) and send the recorded statements through SQLAlchemy's
  connection (`exec_driver_sql`: the statements are not compiled again, so SQLAlchemy's cost
  here is a lower bound of its cost in the run), in one transaction;
- `sqlite3`: `import sqlite3` (and the store's protocol and records, which a store on
  `sqlite3` would still import) and send the same statements through it, in one transaction
  (the run's own BEGIN and COMMIT are left out of both);
- `python -c pass`: the interpreter alone.

The projected rerun is the measured one less the first child's CPU plus the second's. Medians
(CPU: user + sys of the child) over `--repeats`, interleaved.

    python benchmarks/store_read_path.py [--repeats 9] [--tree PYTHONPATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warm_run import COMMANDS, EXAMPLE, _middle, timed

_RECORDER = """
import atexit, json, os
from sqlalchemy import event
from sqlalchemy.engine import Engine

_SEEN = []

@event.listens_for(Engine, "before_cursor_execute")
def _record(conn, cursor, statement, parameters, context, executemany):
    _SEEN.append([statement, list(parameters) if executemany else [parameters]])

def _dump():
    with open(os.environ["SHIPYARD_BENCH_SQL"], "w") as out:
        json.dump(_SEEN, out, default=str)

atexit.register(_dump)
"""

_THROUGH_SQLALCHEMY = """
import json, sys
from shipyard.store import open_store
store = open_store("sqlite:///" + sys.argv[1])
with store._engine.begin() as conn:
    for statement, rows in json.load(open(sys.argv[2])):
        for row in rows if statement.split()[0] not in ("BEGIN", "COMMIT", "ROLLBACK") else ():
            conn.exec_driver_sql(statement, tuple(row) if isinstance(row, list) else row)
"""

_THROUGH_SQLITE3 = """
import json, sqlite3, sys
import shipyard.store, shipyard.store.records  # the protocol and records a store would still need
conn = sqlite3.connect(sys.argv[1])
with conn:
    for statement, rows in json.load(open(sys.argv[2])):
        for row in rows if statement.split()[0] not in ("BEGIN", "COMMIT", "ROLLBACK") else ():
            conn.execute(statement, tuple(row) if isinstance(row, list) else row).fetchall()
"""


def measure(tree: str, repeats: int, scratch: Path) -> dict[str, Any]:
    """Return the medians of the cached rerun and of the three children, and the projection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPYCACHEPREFIX=str(scratch / "bytecode"), PYTHONPATH=tree)
    project = scratch / "penguins"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".shipyard", "models"))
    timed(COMMANDS["cached rerun"], cwd=project, env=env)  # the first run executes the nodes
    store = scratch / "before.db"  # the store as the recorded rerun found it
    shutil.copyfile(project / ".shipyard" / "store.db", store)
    site = scratch / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_RECORDER)
    recorded = scratch / "statements.json"
    timed(
        COMMANDS["cached rerun"],
        cwd=project,
        env={**env, "PYTHONPATH": f"{site}{os.pathsep}{tree}", "SHIPYARD_BENCH_SQL": str(recorded)},
    )
    statements = json.loads(recorded.read_text())
    children = {
        "sqlalchemy": _THROUGH_SQLALCHEMY,
        "sqlite3": _THROUGH_SQLITE3,
        "python -c pass": "pass",
    }
    samples: dict[str, list[float]] = {"cached rerun": []}
    for _ in range(repeats):
        samples["cached rerun"].append(timed(COMMANDS["cached rerun"], cwd=project, env=env)[1])
        for name, code in children.items():
            copy = scratch / "copy.db"
            shutil.copyfile(store, copy)
            arguments = ["-c", code, str(copy), str(recorded)]
            samples.setdefault(name, []).append(timed(arguments, cwd=scratch, env=env)[1])
    cpu = {name: _middle(values) for name, values in samples.items()}
    return {
        "statements": sum(len(rows) for _, rows in statements),
        "repeats": repeats,
        "cpu_s": cpu,
        "projected_cached_rerun_cpu_s": cpu["cached rerun"] - cpu["sqlalchemy"] + cpu["sqlite3"],
    }


def main() -> None:
    """Measure and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--tree", default=str(EXAMPLE.parents[1]), help="a PYTHONPATH")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-sqlite3-") as directory:
        result = measure(args.tree, args.repeats, Path(directory))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['statements']} SQL statements in a cached rerun; CPU, median of {args.repeats}:"
    )
    for name, value in result["cpu_s"].items():
        print(f"  {name:16} {value:.3f} s")
    print(f"  projected cached rerun with sqlite3: {result['projected_cached_rerun_cpu_s']:.3f} s")


if __name__ == "__main__":
    main()
