"""The web UI on a store of 10,000 runs: the runs page sorted by a metric, and a 500-node run.

The store is written directly into the store's tables (one transaction, a few seconds): 10,000
runs of a 10-node pipeline, each run with 5 parameters, and its `evaluate` node's
`ModelEvaluation` with 5 metrics; each node outputs one artifact its successor reads. One
more run has 500 nodes. `shipyard ui`'s app then serves the store read-only on 127.0.0.1 and
this measures:

- server time: `GET /runs?sort=-metrics.accuracy` (the first 50 runs by accuracy, as HTML)
  and `GET /api/runs?sort=-metrics.accuracy` over a real socket, median of `--repeats`;
- in headless Chromium (Debian's `chromium`, over the DevTools protocol, cache disabled):
  when the first row was painted (the first contentful paint, from the navigation's start:
  the rows are in the HTML, parsed before that paint), median of `--loads`, and the bytes
  the network delivered (HTML, CSS and JavaScript, headers included);
- the 500-node run's page: server time and when its first paint happened in Chromium.

    python benchmarks/ui.py [--runs 10000] [--repeats 20] [--loads 5] [--json]

MLflow is not run side by side yet (`--with-peers` is the next step); issue 14 quotes its
figures for the same page on this kind of machine.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shipyard.store.sql import SqlStore, tables  # noqa: E402

NODES = ("ingest", "statistics", "schema", "validate", "transform", "tune", "train",
         "evaluate", "explain", "push")  # fmt: skip
METRICS = ("accuracy", "auc", "f1_macro", "log_loss", "r2")
PARAMETERS = ("learning_rate", "epochs", "batch_size", "hidden_units", "source")
PAGE = "/runs?sort=-metrics.accuracy"


def fill(url: str, runs: int, *, big_nodes: int = 500, seed: int = 0) -> str:
    """Write `runs` runs (and one run of `big_nodes` nodes) into the store; return its id."""
    store = SqlStore(url)  # creates and migrates the schema
    store.close()
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    context_rows: list[dict[str, Any]] = [
        {"id": 1, "type": "pipeline", "name": "bench", "parent_id": None, "state": None,
         "properties": {}, "started_at": start, "ended_at": None},
    ]  # fmt: skip
    execution_rows, artifact_rows, event_rows, association_rows, attribution_rows = (
        [],
        [],
        [],
        [],
        [],
    )  # type: ignore[var-annotated]
    metric_rows: list[dict[str, Any]] = []  # what the runner records when each run ends
    next_execution = next_artifact = 1

    def add_run(run_pk: int, name: str, nodes: list[str], began: datetime) -> None:
        nonlocal next_execution, next_artifact
        parameters = {
            "learning_rate": round(rng.uniform(1e-4, 0.1), 5),
            "epochs": rng.randint(5, 100),
            "batch_size": rng.choice([16, 32, 64, 128]),
            "hidden_units": rng.choice(["16,8", "32,16", "64,32"]),
            "source": f"data/span-{rng.randint(1, 30)}.csv",
        }
        clock = began
        context_rows.append({
            "id": run_pk, "type": "run", "name": name, "parent_id": 1, "state": "complete",
            "properties": {"parameters": parameters, "nodes": nodes, "file": "pipeline.py",
                           "host": "bench", "user": "bench", "cache": True},
            "started_at": began, "ended_at": None,
        })  # fmt: skip
        previous = None
        for node in nodes:
            took = timedelta(seconds=rng.uniform(0.05, 3.0))
            execution_rows.append({
                "id": next_execution, "run_id": run_pk, "node": node, "component": node,
                "parameters": {"seed": 0}, "cache_key": f"{name}/{node}", "state": "complete",
                "started_at": clock, "ended_at": clock + took, "error": None,
                "cached_from": None,
            })  # fmt: skip
            clock += took
            evaluation = node == "evaluate"
            properties = (
                {"metrics": {m: rng.random() for m in METRICS}, "blessed": True}
                if evaluation
                else {"rows": rng.randint(100, 10_000)}
            )
            if evaluation:
                metric_rows.extend(
                    {"run_id": run_pk, "name": m, "value": v}
                    for m, v in properties["metrics"].items()
                )
            artifact_rows.append({
                "id": next_artifact, "type_name": "ModelEvaluation" if evaluation else "Examples",
                "uri": f"/nonexistent/bench/{name}/{node}/out", "name": f"bench/{name}/{node}/out",
                "state": "live", "fingerprint": "0" * 16, "properties": properties,
                "created_at": clock,
            })  # fmt: skip
            event_rows.append({"artifact_id": next_artifact, "execution_id": next_execution,
                               "kind": "output", "name": "out"})  # fmt: skip
            if previous is not None:
                event_rows.append({"artifact_id": previous, "execution_id": next_execution,
                                   "kind": "input", "name": "inp"})  # fmt: skip
            association_rows.append({"context_id": run_pk, "execution_id": next_execution})
            attribution_rows.append({"context_id": run_pk, "artifact_id": next_artifact})
            previous = next_artifact
            next_execution += 1
            next_artifact += 1
        context_rows[-1]["ended_at"] = clock

    for index in range(runs):
        began = start + timedelta(minutes=index)
        add_run(index + 2, f"{began:%Y-%m-%dT%H-%M-%S}-{index:04x}", list(NODES), began)
    big = "2030-01-01T00-00-00-big0"
    add_run(
        runs + 2, big, [f"node-{i:03d}" for i in range(big_nodes)], start + timedelta(days=3650)
    )
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        for table, rows in (
            (tables.contexts, context_rows), (tables.executions, execution_rows),
            (tables.artifacts, artifact_rows), (tables.events, event_rows),
            (tables.associations, association_rows), (tables.attributions, attribution_rows),
            (tables.run_metrics, metric_rows),
        ):  # fmt: skip
            conn.execute(table.insert(), rows)
    engine.dispose()
    return big


def timed_get(url: str) -> tuple[float, int]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return time.perf_counter() - began, len(body)


def first_row_ms(page: Any, url: str) -> tuple[float, int]:
    """Load `url` in the tab; return when its first row was painted and the bytes received.

    The rows are in the HTML: the first contentful paint shows them when the document was
    parsed (`domInteractive`) before it, which is checked.
    """
    page.goto("about:blank")
    mark = len(page.events)
    page.goto(url)
    painted = first_contentful_paint(page)
    parsed, rows = page.evaluate(
        "[performance.getEntriesByType('navigation')[0].domInteractive,"
        " document.querySelectorAll('table.runs tbody tr').length]"
    )
    assert rows > 0 and parsed <= painted, (rows, parsed, painted)
    return float(painted), page.bytes_received(after=mark)


def first_contentful_paint(page: Any) -> float:
    """The page's first contentful paint (ms from the navigation's start), once reported."""
    return float(
        page.evaluate(
            "new Promise((done) => new PerformanceObserver((list) => {"
            " const e = list.getEntries().find((p) => p.name === 'first-contentful-paint');"
            " if (e) done(e.startTime); }).observe({type: 'paint', buffered: true}))"
        )
    )


def first_paint_ms(page: Any, url: str) -> float:
    page.goto("about:blank")
    page.goto(url)
    return first_contentful_paint(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    from shipyard.ui import create_app
    from shipyard.ui.read_only import open_read_only
    from tests.cdp import browser
    from tests.ui.server import serving

    work = Path(tempfile.mkdtemp(prefix="shipyard-ui-bench-"))
    url = f"sqlite:///{work / 'store.db'}"
    began = time.perf_counter()
    big = fill(url, args.runs)
    fill_s = time.perf_counter() - began
    figures: dict[str, Any] = {"runs": args.runs, "fill_s": round(fill_s, 1)}
    project = open_read_only(url, str(work / "artifacts"))
    with serving(create_app(project)) as base:
        timed_get(base + PAGE)  # warm: the engine's compiled statements, the imports
        for name, path in (
            ("page", PAGE), ("api", "/api/runs?sort=-metrics.accuracy"),
            ("page_by_start", "/runs"), ("big_run", f"/runs/{big}"),
        ):  # fmt: skip
            repeats = [timed_get(base + path) for _ in range(args.repeats)]
            figures[f"{name}_server_ms"] = round(statistics.median(t for t, _ in repeats) * 1e3, 1)
            figures[f"{name}_body_bytes"] = repeats[0][1]
        with browser(work / "profile", width=1280, height=900) as page:
            page.send("Network.setCacheDisabled", {"cacheDisabled": True})
            loads = [first_row_ms(page, base + PAGE) for _ in range(args.loads)]
            figures["first_row_ms"] = round(statistics.median(t for t, _ in loads), 1)
            figures["transferred_bytes"] = int(statistics.median(b for _, b in loads))
            paints = [first_paint_ms(page, f"{base}/runs/{big}") for _ in range(args.loads)]
            figures["big_run_first_paint_ms"] = round(statistics.median(paints), 1)
    project.close()
    if args.json:
        print(json.dumps(figures))
        return
    print(f"store: {args.runs:,} runs of {len(NODES)} nodes + one of 500 ({fill_s:.1f} s to fill)")
    print(f"{'measure':44} {'Shipyard':>12} {'goal':>10} {'MLflow 3.17 (issue 14)':>24}")
    rows = [
        ("runs page by accuracy, server (ms)", figures["page_server_ms"], "<= 50", "4660 (API)"),
        ("runs API by accuracy, server (ms)", figures["api_server_ms"], "", "4660"),
        ("runs page by start, server (ms)", figures["page_by_start_server_ms"], "", "70 (API)"),
        ("first row painted in Chromium (ms)", figures["first_row_ms"], "<= 500", "3410"),
        ("transferred for the runs page (KB)", round(figures["transferred_bytes"] / 1024, 1),
         "<= 300", "8500"),
        ("500-node run page, server (ms)", figures["big_run_server_ms"], "", ""),
        ("500-node run page, first paint (ms)", figures["big_run_first_paint_ms"], "<= 2000", ""),
    ]  # fmt: skip
    for name, ours, goal, peer in rows:
        print(f"{name:44} {ours:>12} {goal:>10} {peer:>24}")


if __name__ == "__main__":
    main()
