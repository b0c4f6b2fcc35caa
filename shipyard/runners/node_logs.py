"""Each node's log: the records its component logged, kept as JSON lines beside its outputs.

A node's log is `ROOT/PIPELINE/RUN/NODE/log.jsonl` under the artifact root, one record a
line: `{"time": ISO 8601, "level": "INFO", "logger": "...", "message": "..."}`. The runner
appends each record as it arrives (`NodeLogWriter`), so on a local root a reader sees it
while the node runs; a remote root gets the whole file when the node ends. This module is
the format's one owner: `read_node_log` serves `shipyard runs logs --json`, the UI's API and
its live tail alike. (`log.jsonl` cannot collide with an output: ports are identifiers.)
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shipyard.errors import NotFoundError

if TYPE_CHECKING:
    from shipyard.dsl.context import LogEntry
    from shipyard.io import ArtifactStorage
    from shipyard.runners.project import Project

LOG_FILENAME: Final = "log.jsonl"


def log_uri(storage: ArtifactStorage, pipeline: str, run_id: str, node: str) -> str:
    """Where a node's log is kept: beside its outputs (`ROOT/PIPELINE/RUN/NODE/log.jsonl`)."""
    return storage.uri_for(pipeline, run_id, node, LOG_FILENAME)


def entry_json(entry: LogEntry) -> dict[str, str]:
    """A log record as the JSON the log file, the CLI and the API hold."""
    return {
        "time": datetime.fromtimestamp(entry.time_s, UTC).isoformat(timespec="milliseconds"),
        "level": entry.level,
        "logger": entry.logger,
        "message": entry.message,
    }


def log_line(entry: dict[str, str]) -> str:
    """A record as one line of text: `12:03:07.123 INFO    logger: message` (time in UTC)."""
    return f"{entry['time'][11:23]} {entry['level']:<7} {entry['logger']}: {entry['message']}"


class NodeLogWriter:
    """Keeps the log records of one run's nodes (the runner calls it from engine threads)."""

    def __init__(self, storage: ArtifactStorage, pipeline: str, run_id: str) -> None:
        self._storage = storage
        self._pipeline = pipeline
        self._run_id = run_id
        self._lock = threading.Lock()
        self._pending: dict[str, list[str]] = {}  # a remote root's lines, until the node ends

    def append(self, node: str, entry: LogEntry) -> None:
        """Keep one record of `node` (at once on a local root)."""
        line = json.dumps(entry_json(entry), ensure_ascii=False) + "\n"
        with self._lock:
            if not self._storage.is_local:
                self._pending.setdefault(node, []).append(line)
                return
            path = Path(log_uri(self._storage, self._pipeline, self._run_id, node))
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as file:
                file.write(line)

    def finish(self, node: str) -> None:
        """The node ended: a remote root gets its log now."""
        with self._lock:
            lines = self._pending.pop(node, None)
        if lines:
            uri = log_uri(self._storage, self._pipeline, self._run_id, node)
            self._storage.fs.pipe(uri, "".join(lines).encode())


def read_node_log(
    storage: ArtifactStorage, pipeline: str, run_id: str, node: str, *, offset: int = 0
) -> tuple[list[dict[str, str]], int]:
    """The records of a node's log from byte `offset` on, and the offset after the last one.

    A line still being written (no newline yet) is left for the next read, so a reader
    that follows a running node (`offset` = what the previous call returned) sees each
    record once and whole. A missing log (the node logged nothing, has not started, or came
    from the cache) has no records.
    """
    uri = log_uri(storage, pipeline, run_id, node)
    try:
        if storage.is_local:
            with Path(uri).open("rb") as file:
                file.seek(offset)
                data = file.read()
        else:  # an object store answers a range past the end with an error: no new bytes
            if storage.fs.size(uri) <= offset:
                return [], offset
            data = storage.fs.cat_file(uri, start=offset)
    except FileNotFoundError:
        return [], offset
    whole = data[: data.rfind(b"\n") + 1]
    entries = [json.loads(line) for line in whole.decode("utf-8").splitlines() if line]
    return entries, offset + len(whole)


def run_logs(project: Project, run_id: str, node: str | None = None) -> dict[str, Any]:
    """A run's node logs: `{"run", "pipeline", "nodes": {NODE: {"state", "entries"}}}`.

    Args:
        project: Where the run is recorded.
        run_id: A run id, or a prefix matching one run.
        node: Only this node's log.

    Raises:
        NotFoundError: No run matches `run_id`, or the run has no node `node`.
    """
    run = project.store.get_run(run_id)
    pipeline = run.pipeline
    states = {name: "pending" for name in run.properties.get("nodes", [])}
    states.update({e.node: e.state for e in project.store.list_executions(run.id)})
    if node is not None and node not in states:
        raise NotFoundError(
            f"Run {run.id} has no node {node!r}; its nodes: {', '.join(states) or 'none'}.",
            hint=f"Run `shipyard runs show {run.id}` to see them.",
        )
    names = [node] if node is not None else list(states)
    return {
        "run": run.id,
        "pipeline": pipeline,
        "nodes": {
            name: {
                "state": states[name],
                "entries": read_node_log(project.storage, pipeline, run.id, name)[0],
            }
            for name in names
        },
    }
