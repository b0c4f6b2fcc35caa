"""Ending the `shipyard` process once a command is done, without the interpreter's teardown.

After a training, Python's normal exit takes longer than many commands' whole work: it frees
every module's objects one by one and then runs the C++ static destructors of the native
libraries (measured with PyTorch 2.13 loaded: 0.5 to 0.9 s of CPU time, 1.2 to 1.9 s of
wall time on 2 shared cores; `docs/benchmarks.md`, "Speed"). Nothing of that is needed by
a process that is about to end, so `exit_process` does what matters of a normal exit and
then ends the process at once (`os._exit`):

- `threading`'s exit step runs first, as at a normal exit: its hooks (a
  `ThreadPoolExecutor` still open finishes its work) and the wait for every thread that is
  not a daemon;
- then the `atexit` callbacks (temporary directories are removed, logging is flushed, a
  user's own callbacks run);
- standard output and standard error are flushed; a broken pipe there is ignored as
  Python ignores it at exit;
- the exit status is that of `sys.exit(code)`: 0 for None, the integer, or 1 after printing
  any other value to standard error.

`SHIPYARD_NORMAL_EXIT=1` forces the normal exit (for tools that inspect the interpreter's
teardown); so does a Python without those two steps' functions.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

NORMAL_EXIT_ENV = "SHIPYARD_NORMAL_EXIT"


def exit_process(code: object = None) -> NoReturn:
    """End the process with `sys.exit(code)`'s status, skipping the interpreter's teardown.

    Args:
        code: As for `sys.exit`: None (0), an exit status, or a message (printed; status 1).
    """
    status = _status(code)
    run_exit_hooks = getattr(atexit, "_run_exitfuncs", None)
    thread_hooks = getattr(threading, "_shutdown", None)
    if os.environ.get(NORMAL_EXIT_ENV) == "1" or run_exit_hooks is None or thread_hooks is None:
        sys.exit(status)
    thread_hooks()  # what Py_FinalizeEx does first: waits for the non-daemon threads
    run_exit_hooks()
    _flush()
    os._exit(status)


def _status(code: object) -> int:
    """The status `sys.exit(code)` gives; a message is printed to standard error."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: Python ignores it at exit
            pass
