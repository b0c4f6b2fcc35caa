"""A monitor's runs in the store: one claim at a time, and a `MonitoringReport` per run.

Each `shipyard monitor` run is a run of the pipeline `monitor:NAME` with one execution,
`monitor`, which claims the key `monitor:NAME` in the store (`runners.claims`): a second
process of the same monitor finds the claim held and stops with an error naming the holder,
unless the holder's process is gone (then its run is marked abandoned and the claim taken).
The run ends by publishing its `MonitoringReport` artifact (windows, report, next state)
and registering it as the execution's output in one transaction: that is when the run
counts. The newest such artifact holds the state the next run starts from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
from typing import TYPE_CHECKING

from shipyard.artifacts.monitoring_report import MonitoringReport
from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.io import fingerprint_path
from shipyard.monitoring.monitor import run_monitor
from shipyard.monitoring.state import MonitorState, pipeline_name
from shipyard.runners.claims import Claims
from shipyard.runners.liveness import process_started
from shipyard.store import NewArtifact

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.io import ArtifactStorage
    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.monitoring.report import MonitorResult
    from shipyard.store import ExecutionRecord, MetadataStore, RunRecord
    from shipyard.store.records import FailureState

NODE = "monitor"
OUTPUT = "report"
NEWEST_RUNS = 20


def monitor(
    store: MetadataStore, storage: ArtifactStorage, options: MonitorOptions
) -> MonitorResult:
    """Run a monitor once, claimed in the store, and record its report as an artifact.

    Raises:
        InvalidParameterError: Another process runs the same monitor now, or as
            `run_monitor`.
        DataError: As `run_monitor`.
    """
    with monitor_run(store, storage, options.name) as keeper:
        return run_monitor(options, keeper)


@contextlib.contextmanager
def monitor_run(store: MetadataStore, storage: ArtifactStorage, name: str) -> Iterator[MonitorRun]:
    """Start a run of monitor `name` and claim it; end the run when the block ends.

    Raises:
        InvalidParameterError: A live process holds the monitor's claim.
    """
    run = store.create_run(
        pipeline_name(name),
        properties={
            "monitor": name,
            "pid": os.getpid(),
            "pid_started": process_started(os.getpid()),
            "host": socket.gethostname(),
        },
    )
    claims = Claims(store, storage, run.id)
    identity = {
        "node": NODE,
        "component": "shipyard.monitor",
        "parameters": {"monitor": name},
        "cache_key": pipeline_name(name),
    }
    claim = claims.claim(NODE, identity, {}, reuse=False)
    if claim is None:
        holder = store.get_run(claims.waiting[NODE].run_id)
        store.finish_run(run.id, "failed")
        raise InvalidParameterError(
            f"The monitor {name!r} is running already (run {holder.id}, pid "
            f"{holder.properties.get('pid')} on {holder.properties.get('host')}). Wait for it "
            "to end (a monitor runs one process at a time), or give another --name."
        )
    keeper = MonitorRun(store, storage, run, claim.execution)
    try:
        yield keeper
    except BaseException as exc:
        ended: FailureState = (
            "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        )
        store.fail_execution(claim.execution.id, repr(exc), state=ended)
        store.finish_run(run.id, ended)
        raise
    if not keeper.recorded:
        store.fail_execution(claim.execution.id, "ended without a report", state="failed")
    store.finish_run(run.id, "complete" if keeper.recorded else "failed")


def directory_name(pipeline: str) -> str:
    """The folder of a monitor's artifacts: its pipeline's name as one path segment.

    A monitor is named by its logs' path or URL (`monitor:/srv/requests`), whose slashes
    and colons would nest folders; they become `_`, and a digest of the name keeps two
    names apart that differ only there (`monitor__srv_requests-1a2b3c4d`).
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", pipeline)
    if safe == pipeline:
        return pipeline
    return f"{safe[:80]}-{hashlib.sha256(pipeline.encode('utf-8')).hexdigest()[:8]}"


class MonitorRun:
    """The `StateKeeper` of one claimed run: the newest report's state in, this run's out."""

    def __init__(
        self,
        store: MetadataStore,
        storage: ArtifactStorage,
        run: RunRecord,
        execution: ExecutionRecord,
    ) -> None:
        self.store, self.storage, self.run, self.execution = store, storage, run, execution
        self.recorded = False

    def load(self) -> MonitorState | None:
        """Return the state in the newest report of this monitor, or None for a new one.

        Raises:
            InvalidParameterError: The newest state was written by another version, or its
                files were deleted (`shipyard gc`).
        """
        name = self.run.properties["monitor"]
        for run in self._newest_runs():
            if run.id == self.run.id:
                continue
            if "state" in run.properties:  # recorded in the run by the first release
                return MonitorState.from_json(run.properties["state"], name)
            found = self.store.list_artifacts(run_id=run.id, type_name=MonitoringReport.type_name)
            if not found:
                continue
            record = found[-1]
            if record.state != "live":
                raise InvalidParameterError(
                    f"The state of the monitor {name!r} (artifact #{record.id}, run {run.id}) "
                    "was deleted from the artifact storage, so its next run cannot tell which "
                    "logs it read. Give the --name of a new monitor."
                )
            local = self.storage.localize(record.uri)
            return MonitorState.from_json(MonitoringReport(local, uri=record.uri).state(), name)
        return None

    def _newest_runs(self) -> Iterator[RunRecord]:
        """The monitor's runs, newest first (most are found among the first few)."""
        first = self.store.list_runs(pipeline=self.run.pipeline, limit=NEWEST_RUNS)
        yield from first
        if len(first) == NEWEST_RUNS:
            yield from self.store.list_runs(pipeline=self.run.pipeline)[NEWEST_RUNS:]

    def record(self, report: MonitorResult, state: MonitorState) -> None:
        """Publish the run's report artifact and register it: the run counts from now."""
        folder = directory_name(self.run.pipeline)
        uri = self.storage.uri_for(folder, self.run.id, NODE, OUTPUT)
        staging = self.storage.new_staging(self.run.id)
        report.store_run = self.run.id
        artifact = MonitoringReport(staging, uri=uri)
        artifact.write(
            summary=report.to_json(), figures=report.figure_rows(), state=state.to_json()
        )
        new = NewArtifact(
            type_name=MonitoringReport.type_name,
            uri=uri,
            fingerprint=fingerprint_path(staging),
            name=f"{self.run.pipeline}/{self.run.id}/{NODE}/{OUTPUT}",
            properties=artifact.properties,
        )
        self.storage.publish(staging, uri)
        try:
            records = self.store.complete_execution(self.execution.id, {OUTPUT: new})
        except BaseException:
            with contextlib.suppress(OSError, NotFoundError):
                self.storage.remove(uri)
            raise
        report.artifact = records[OUTPUT].id
        self.recorded = True
