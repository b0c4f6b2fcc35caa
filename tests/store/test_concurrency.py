"""Several OS processes write one store at once: nothing is lost, corrupted or deadlocked."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import pytest

from shipyard.store.sql import SqlStore
from tests.environment import child_environment

WORKERS = 3
ROUNDS = 12
NODES = ("ingest", "train")

# Each worker opens the (possibly still missing) store at the same moment as the others, then
# runs ROUNDS two-node runs. Cache keys are shared between workers, so a worker either finds
# another's execution in the cache and records a cached one, or runs the node itself.
WORKER = """
import json, sys, time
from shipyard.store import NewArtifact
from shipyard.store.sql import SqlStore

url, worker, rounds, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
time.sleep(max(0.0, start_at - time.time()))
store = SqlStore(url)
runs = []
for index in range(rounds):
    pipeline = f"pipeline-{index % 2}"
    run = store.create_run(pipeline, properties={"worker": worker})
    upstream = {}
    for node in ("ingest", "train"):
        key = f"round-{index}-{node}"
        hit = store.find_cached(key)
        if hit is None:
            execution = store.start_execution(
                run.id, node=node, component=node, parameters={"round": index},
                cache_key=key, inputs=upstream,
            )
            name = f"{pipeline}/{run.id}/{node}/out"
            outputs = store.complete_execution(
                execution.id, {"out": NewArtifact("Examples", f"/a/{name}", "f", name)}
            )
        else:
            producer, outputs = hit
            store.record_execution(
                run.id, node=node, component=node, parameters={"round": index}, cache_key=key,
                state="cached", inputs=upstream, outputs={"out": outputs["out"].id},
                cached_from=producer.id,
            )
        upstream = {"data": outputs["out"].id}
    store.finish_run(run.id, "complete")
    runs.append(run.id)
store.close()
print(json.dumps(runs))
"""


def _run_workers(url: str) -> list[str]:
    env = child_environment(checkout_first=True)
    start_at = time.time() + 1.5
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-W",
                "error",
                "-c",
                WORKER,
                url,
                str(worker),
                str(ROUNDS),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(WORKERS)
    ]
    run_ids: list[str] = []
    failures = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        if process.returncode != 0 or err.strip():
            failures.append(f"exit {process.returncode}: {err.strip()[-3000:]}")
        else:
            run_ids.extend(json.loads(out))
    assert failures == []
    return run_ids


@pytest.mark.slow
def test_processes_writing_one_store_at_once(store_url: str) -> None:
    run_ids = _run_workers(store_url)

    assert len(run_ids) == len(set(run_ids)) == WORKERS * ROUNDS
    store = SqlStore(store_url)
    try:
        runs = store.list_runs()
        assert sorted(run.id for run in runs) == sorted(run_ids)
        assert {run.state for run in runs} == {"complete"}
        assert Counter(run.properties["worker"] for run in runs) == dict.fromkeys(
            range(WORKERS), ROUNDS
        )

        complete = 0
        for run in runs:
            executions = store.list_executions(run.id)
            assert [e.node for e in executions] == list(NODES)
            outputs = {}
            for execution in executions:
                events = store.events_of_execution(execution.id)
                produced = [e.artifact_id for e in events if e.kind == "output"]
                consumed = [e.artifact_id for e in events if e.kind == "input"]
                assert len(produced) == 1
                # train reads exactly what ingest of the same run handed on
                assert consumed == ([outputs["ingest"]] if execution.node == "train" else [])
                outputs[execution.node] = produced[0]
                if execution.state == "complete":
                    complete += 1
                    assert execution.cached_from is None
                    assert store.get_artifact(produced[0]).name.startswith(
                        f"{run.pipeline}/{run.id}/"
                    )
                else:
                    assert execution.state == "cached"
                    producer = store.get_execution(execution.cached_from or -1)
                    assert producer.state == "complete"
                    assert producer.cache_key == execution.cache_key
                    producer_outputs = [
                        e.artifact_id
                        for e in store.events_of_execution(producer.id)
                        if e.kind == "output"
                    ]
                    assert producer_outputs == produced
            produced_here = {a.id for a in store.list_artifacts(run_id=run.id)}
            assert produced_here == {outputs[e.node] for e in executions if e.state == "complete"}

        # every shared cache key was run at least once, and every artifact has one producer
        assert complete >= ROUNDS * len(NODES)
        artifacts = store.list_artifacts()
        assert len(artifacts) == complete
        assert {a.state for a in artifacts} == {"live"}
    finally:
        store.close()
