"""The worker process of `ProcessEngine`: runs the tasks its parent sends, one at a time.

Started as `python -P .../shipyard/engines/worker.py FD`, where FD is its end of a socket
pair: as a file, so that no package of Shipyard's is imported before the `preload` modules.
Every message is one JSON object (`send_bytes`), never pickle:

- parent to worker: `{"op": "init", "sys_path": [...], "engine": NAME, "preload": [...]}`
  once, then
  `{"op": "run", "id": N, "task": TASK_JSON}`, `{"op": "stop", "id": N}`, `{"op": "exit"}`;
- worker to parent: `{"op": "ready", "pid": PID}`, `{"op": "progress", "id": N, "progress":
  {...}}`, `{"op": "log", "id": N, "entry": {...}}`, `{"op": "result", "id": N, "result":
  RESULT_JSON}`.

The runner's `sys.path` entries that this interpreter lacks are added after its own.
After `ready` the worker imports the `preload` modules (a module that fails to import is
left to the task that needs it to report), then runs tasks; `run` messages wait meanwhile.
The worker ignores Ctrl-C (its parent decides what a stop means) and exits when its parent
goes away (the socket closes) or says `exit`, at once, even in the middle of the imports:
its parent sends `exit` only when no task of it runs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import queue
import signal
import sys
import threading
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from shipyard.dsl.context import LogEntry, Progress


def serve(connection: Connection) -> NoReturn:
    """Run tasks from `connection` until told to exit or the parent goes away; never returns."""
    tasks: queue.Queue[dict[str, Any]] = queue.Queue()
    stops: set[int] = set()
    send_lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with send_lock:
            connection.send_bytes(json.dumps(message).encode())

    def listen() -> None:
        while True:
            try:
                message = json.loads(connection.recv_bytes())
            except (EOFError, OSError):  # the parent is gone: nobody can record a result
                os._exit(1)
            if message["op"] == "stop":
                stops.add(message["id"])
            elif message["op"] == "run":
                tasks.put(message)
            else:  # exit: no task runs, and the preload imports need not finish
                _exit(0)

    first = json.loads(connection.recv_bytes())
    # The runner's entries after this interpreter's own: a directory that a pipeline file or
    # a notebook put first on the runner's path (`import_file`) must not shadow the standard
    # library or the installed packages here, which the runner had imported before.
    sys.path.extend(entry for entry in first["sys_path"] if entry not in sys.path)
    engine: str = first.get("engine", "processes")
    threading.Thread(target=listen, name="shipyard-worker-listen", daemon=True).start()
    send({"op": "ready", "pid": os.getpid()})
    for module in first.get("preload", ()):
        with contextlib.suppress(Exception):  # the task that imports it reports the error
            importlib.import_module(module)
    from shipyard.engines.spec import TaskSpec  # after the preload: they wait for nothing
    from shipyard.engines.task import execute_task

    while True:
        message = tasks.get()
        task_id: int = message["id"]

        def report(progress: Progress, task_id: int = task_id) -> None:
            send({"op": "progress", "id": task_id, "progress": asdict(progress)})

        def log(entry: LogEntry, task_id: int = task_id) -> None:
            send({"op": "log", "id": task_id, "entry": asdict(entry)})

        result = execute_task(
            TaskSpec.from_json(message["task"]),
            engine=engine,
            on_progress=report,
            stop_requested=functools.partial(stops.__contains__, task_id),
            on_log=log,
        )
        send({"op": "result", "id": task_id, "result": result.to_json()})


def _exit(status: int) -> NoReturn:
    """End the worker without the interpreter's teardown: torch takes seconds to unload."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(Connection(int(sys.argv[1])))


if __name__ == "__main__":
    main()
