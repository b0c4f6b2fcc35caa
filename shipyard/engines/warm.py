"""The `threads` engine's warm worker: one process that imports slow modules ahead of its task.

PyTorch takes about 2 s of CPU to import, all of it Python holding the GIL, so importing it
on a thread of the run's process stalls every other node meanwhile. The warm worker is a
`ProcessEngine` worker (`shipyard.engines.worker`, the same protocol: JSON over a socket
pair, progress, logs and stop requests relayed) started when the runner calls
`ThreadEngine.preload`, as soon as a node upstream of a node that declares
`@component(preload=...)` executes; it imports those modules on another core while this
process runs the upstream nodes, then runs the node that needs them. Its tasks see
`TaskContext.engine == "threads"`: they belong to the `threads` engine's run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from shipyard.engines.processes import ProcessEngine

if TYPE_CHECKING:
    from collections.abc import Sequence


class WarmWorker(ProcessEngine):
    """One worker process, started now, that imports `preload` before its first task.

    Args:
        preload: The modules to import, in order.

    Raises:
        OSError: The process cannot be started.
    """

    name: ClassVar[str] = "threads"

    def __init__(self, preload: Sequence[str]) -> None:
        super().__init__(max_workers=1, preload=preload)
