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

- the first 100 runs from the JSON API, by accuracy and by start time (median of `--repeats`);
- "first row on screen": the same probe in both UIs, injected before the page's own scripts,
  looks on every animation frame for the expected first run's name in a visible element
  and keeps that frame's time (from the navigation's start), median of `--loads`.

With `--with-peers`, MLflow 3.17.2 runs side by side in the same run (`peers/mlflow_tracking.py`:
its own venv under `benchmarks/.peers/mlflow/`, built once with pip): its SQLite store gets
the same number of runs, each with the same 5 parameters and 5 metrics, and `mlflow server`
serves it on 127.0.0.1. Measured the same way: its search API's first 100 runs by accuracy
and by start time (`runs/search`, median of `--repeats`), and its runs page sorted by
accuracy in the same Chromium tab (first row on screen, and the bytes delivered once the
network is quiet), median of `--loads`. Each measure runs Shipyard's side then MLflow's.

    python benchmarks/ui.py [--runs 10000] [--repeats 20] [--loads 5] [--with-peers] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
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
PEER_PAGE = 100
"""Runs the API returns at a time in the side by side: what MLflow's UI asks for."""


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


PROBE = """(() => { const wanted = %s; window.__firstRow = null;
  const look = (frame) => {
    if (document.body) {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const name = wanted.find((w) => n.data.includes(w));
        if (name === undefined) continue;
        const box = n.parentElement.getBoundingClientRect();
        if (box.width > 0 && box.height > 0 && box.top < innerHeight) {
          window.__firstRow = [frame, name]; return; }
      }
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look); })();"""
"""Keeps the time of the first animation frame (from the navigation's start) that has one of
the texts `wanted` in a visible element (the frame that paints it), and which text it was."""


@dataclass(frozen=True)
class Load:
    """One page load in Chromium."""

    first_row_ms: float
    first_row: str
    """Which of the expected first rows showed."""
    transferred_bytes: int
    searches: list[str]
    """The bodies of the requests the page posted (MLflow's `runs/search`)."""


def load_page(page: Any, url: str, first_rows: list[str]) -> Load:
    """Load `url` with the probe for any of `first_rows`; wait for it and a quiet network."""
    page.goto("about:blank")
    probe = page.send("Page.addScriptToEvaluateOnNewDocument",
                      {"source": PROBE % json.dumps(first_rows)})  # fmt: skip
    mark = len(page.events)
    page.goto(url)
    shown = page.evaluate(
        "new Promise((done) => { const t0 = performance.now(); const check = () => {"
        " if (window.__firstRow !== null) done(window.__firstRow);"
        " else if (performance.now() - t0 > 120000) done(null);"
        " else setTimeout(check, 20); }; check(); })"
    )
    page.send("Page.removeScriptToEvaluateOnNewDocument", probe)
    assert shown is not None, f"none of {first_rows} showed on {url}"
    settle(page, after=mark)
    posted = [
        e["params"]["request"].get("postData", "")
        for e in page.events[mark:]
        if e.get("method") == "Network.requestWillBeSent"
        and e["params"]["request"]["method"] == "POST"
    ]
    return Load(float(shown[0]), shown[1], page.bytes_received(after=mark), posted)


def settle(page: Any, *, after: int, quiet_s: float = 1.0, limit_s: float = 20.0) -> None:
    """Wait until no request has finished for `quiet_s` (at most `limit_s`)."""
    deadline = time.monotonic() + limit_s
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        page.evaluate("1")  # collects the events that arrived
        finished = sum(
            1 for e in page.events[after:] if e.get("method") == "Network.loadingFinished"
        )
        if finished != seen:
            seen, since = finished, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


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


def ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1e3, 1)


def measure_ours(base: str, big: str, page: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Shipyard's figures: server times, the API's first 100 runs, the page in Chromium."""
    figures: dict[str, Any] = {}
    timed_get(base + PAGE)  # warm: the engine's compiled statements, the imports
    for name, path in (
        ("page", PAGE), ("page_by_start", "/runs"), ("big_run", f"/runs/{big}"),
        ("api_100", f"/api/runs?sort=-metrics.accuracy&limit={PEER_PAGE}"),
        ("api_100_by_start", f"/api/runs?sort=-started_at&limit={PEER_PAGE}"),
    ):  # fmt: skip
        repeats = [timed_get(base + path) for _ in range(args.repeats)]
        figures[f"{name}_server_ms"] = ms([t for t, _ in repeats])
        figures[f"{name}_body_bytes"] = repeats[0][1]
    with urllib.request.urlopen(f"{base}/api/runs?sort=-metrics.accuracy&limit=1") as answer:
        first = json.load(answer)[0]["id"]
    loads, paints = [], []
    for _ in range(args.loads):
        loads.append(load_page(page, base + PAGE, [first]))
        paints.append(first_contentful_paint(page))
        parsed, rows = page.evaluate(
            "[performance.getEntriesByType('navigation')[0].domInteractive,"
            " document.querySelectorAll('table.runs tbody tr').length]"
        )
        assert rows > 0 and parsed <= paints[-1], (rows, parsed, paints[-1])
    figures["first_row_ms"] = round(statistics.median(load.first_row_ms for load in loads), 1)
    figures["first_paint_ms"] = round(statistics.median(paints), 1)
    figures["transferred_bytes"] = int(statistics.median(load.transferred_bytes for load in loads))
    big_paints = [first_paint_ms(page, f"{base}/runs/{big}") for _ in range(args.loads)]
    figures["big_run_first_paint_ms"] = round(statistics.median(big_paints), 1)
    return figures


def measure_mlflow(tracking: Any, page: Any, args: argparse.Namespace) -> dict[str, Any]:
    """MLflow's figures: its search API's first 100 runs, its runs page in Chromium."""
    from peers.mlflow_tracking import search

    figures: dict[str, Any] = {"fill_s": round(tracking.fill_s, 1)}
    for name, order_by, first in (
        ("api_100", "metrics.accuracy DESC", tracking.first_by_accuracy),
        ("api_100_by_start", "attributes.start_time DESC", tracking.first_by_start),
    ):
        search(tracking, order_by)  # warm
        repeats = [search(tracking, order_by) for _ in range(args.repeats)]
        assert all(names[0] == first for _, names in repeats), (order_by, repeats[0][1][:3])
        figures[f"{name}_server_ms"] = ms([t for t, _ in repeats])
    url = tracking.runs_page(by_accuracy=True)
    expected = [tracking.first_by_accuracy, tracking.first_by_start]
    load_page(page, url, expected)  # warm: the server's first page build
    loads = [load_page(page, url, expected) for _ in range(args.loads)]
    searches = [body for load in loads for body in load.searches if "order_by" in body]
    figures["page_sorted_by_accuracy"] = all(
        load.first_row == tracking.first_by_accuracy for load in loads
    )
    figures["page_searches"] = searches[:1]
    figures["first_row_ms"] = round(statistics.median(load.first_row_ms for load in loads), 1)
    figures["transferred_bytes"] = int(statistics.median(load.transferred_bytes for load in loads))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--with-peers", action="store_true", help="MLflow side by side")
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
    with contextlib.ExitStack() as stack:
        tracking = None
        if args.with_peers:
            from peers.mlflow_tracking import tracking_server

            tracking = stack.enter_context(tracking_server(work, args.runs))
        base = stack.enter_context(serving(create_app(project)))
        page = stack.enter_context(browser(work / "profile", width=1280, height=900))
        page.send("Network.setCacheDisabled", {"cacheDisabled": True})
        figures["shipyard"] = measure_ours(base, big, page, args)
        if tracking is not None:
            figures["mlflow"] = measure_mlflow(tracking, page, args)
    project.close()
    if args.json:
        print(json.dumps(figures))
        return
    print_table(figures)


def print_table(figures: dict[str, Any]) -> None:
    ours, peer = figures["shipyard"], figures.get("mlflow", {})
    print(f"store: {figures['runs']:,} runs of {len(NODES)} nodes + one of 500 "
          f"({figures['fill_s']:.1f} s to fill)")  # fmt: skip
    if peer:
        print(f"MLflow 3.17.2: {figures['runs']:,} runs, 5 parameters and 5 metrics each "
              f"({peer['fill_s']:.1f} s to fill); its runs page sorted by accuracy: "
              f"{peer['page_sorted_by_accuracy']}")  # fmt: skip
    print(f"{'measure':46} {'Shipyard':>10} {'goal':>8} {'MLflow 3.17.2':>14}")

    def kb(value: float | None) -> float | None:
        return None if value is None else round(value / 1024, 1)

    rows = [
        ("API, first 100 runs by accuracy (ms)", ours["api_100_server_ms"], "",
         peer.get("api_100_server_ms")),
        ("API, first 100 runs by start (ms)", ours["api_100_by_start_server_ms"], "",
         peer.get("api_100_by_start_server_ms")),
        ("runs page by accuracy, server (ms)", ours["page_server_ms"], "<= 50", None),
        ("runs page by start, server (ms)", ours["page_by_start_server_ms"], "", None),
        ("runs page: first row on screen (ms)", ours["first_row_ms"], "<= 500",
         peer.get("first_row_ms")),
        ("runs page: first contentful paint (ms)", ours["first_paint_ms"], "", None),
        ("runs page: transferred (KB)", kb(ours["transferred_bytes"]), "<= 300",
         kb(peer.get("transferred_bytes"))),
        ("500-node run page, server (ms)", ours["big_run_server_ms"], "", None),
        ("500-node run page, first paint (ms)", ours["big_run_first_paint_ms"], "<= 2000", None),
    ]  # fmt: skip
    for name, mine, goal, theirs in rows:
        shown = "" if theirs is None else theirs
        print(f"{name:46} {mine:>10} {goal:>8} {shown:>14}")


if __name__ == "__main__":
    main()
