"""Claims on a cache key from several OS processes at once: exactly one claimer starts.

Each worker process opens the store, waits for a common moment, then claims the same keys in
the same order; on PostgreSQL the claims race under READ COMMITTED, where only the advisory
lock keeps two claimers from both seeing the key free.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import pytest

from shipyard.store.sql import SqlStore
from tests.environment import child_environment

WORKERS = 6
KEYS = 15

WORKER = """
import json, sys, time
from shipyard.store.sql import SqlStore

url, keys, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
store = SqlStore(url)
run = store.create_run("claims")
time.sleep(max(0.0, start_at - time.time()))
outcomes = []
for index in range(keys):
    claim = store.claim_execution(
        run.id, node="train", component="train", parameters={}, cache_key=f"key-{index}",
        inputs={},
    )
    outcomes.append([index, claim.outcome, claim.execution.id])
store.close()
print(json.dumps(outcomes))
"""


@pytest.mark.slow
def test_one_of_many_concurrent_claimers_starts_each_key(store_url: str) -> None:
    SqlStore(store_url).close()  # created and migrated before the race
    env = child_environment(checkout_first=True)
    start_at = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-W", "error", "-c", WORKER, store_url, str(KEYS), str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.extend(json.loads(out))
    starts = Counter(index for index, outcome, _ in results if outcome == "started")
    assert starts == dict.fromkeys(range(KEYS), 1)
    holders = {index: execution for index, outcome, execution in results if outcome == "started"}
    for index, outcome, execution in results:
        if outcome != "started":
            assert (outcome, execution) == ("held", holders[index])
    store = SqlStore(store_url)
    try:
        runs = store.list_runs(pipeline="claims")
        running = [e for run in runs for e in store.list_executions(run.id)]
        assert sorted(e.cache_key for e in running) == sorted(f"key-{i}" for i in range(KEYS))
    finally:
        store.close()
