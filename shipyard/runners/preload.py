"""Load PyTorch's native library in the background while a run's first nodes execute.

Importing PyTorch starts by loading `libtorch_cpu`, whose static initialisers register
every operator: 0.2-0.3 s of CPU before any Python code of `torch` runs. Python loads an
extension module while holding the GIL, so nothing else of the process runs meanwhile. A
thread that loads the library itself through the C library's `dlopen` (a `ctypes` call
releases the GIL) does that work on another core while ingest, statistics and the transform
run; the training node's `import torch` then finds the library loaded and only runs
PyTorch's Python code. The library is loaded with the flags Python's own import uses
(`sys.getdlopenflags()`), so what `import torch` sees is unchanged.

`NativePreload` is a run hook: it starts the load when a run that will train a PyTorch
network executes its first node (a fully cached rerun loads nothing). Any failure of the
load is ignored, and `import torch` then reports the real problem where it always did.
`SHIPYARD_NATIVE_PRELOAD=0` turns it off.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.dsl import Pipeline
    from shipyard.runners.results import NodeRun

logger = logging.getLogger("shipyard.runners")

DISABLE_ENV = "SHIPYARD_NATIVE_PRELOAD"
_SUFFIX = {"linux": ".so", "darwin": ".dylib"}


def torch_library() -> Path | None:
    """The path of the installed PyTorch's `libtorch_cpu`, found without importing torch.

    None where there is none to load this way: no PyTorch, PyTorch already imported, an
    unsupported platform (Windows), or a build without the library in `torch/lib`.
    """
    suffix = _SUFFIX.get(sys.platform)
    if suffix is None or "torch" in sys.modules:
        return None
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    library = Path(spec.origin).parent / "lib" / f"libtorch_cpu{suffix}"
    return library if library.is_file() else None


def load_library(path: Path) -> bool:
    """`dlopen` `path` with Python's extension flags, without holding the GIL.

    Returns:
        Whether the library is loaded (it stays loaded for the life of the process).
    """
    libc = ctypes.CDLL(None)
    dlopen = libc.dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    handle = dlopen(os.fsencode(path), sys.getdlopenflags())
    if not handle:
        logger.debug("preloading %s failed; import torch will report why", path)
    return bool(handle)


def start_load(path: Path) -> threading.Thread:
    """Load `path` in a daemon thread (it never delays the end of the process)."""
    thread = threading.Thread(
        target=load_library, args=(path,), name="shipyard-native-preload", daemon=True
    )
    thread.start()
    return thread


def trains(pipeline: Pipeline) -> bool:
    """Whether a node of `pipeline` is the `train` component (every estimator imports torch)."""
    from shipyard.components.train import train

    return any(node.component is train for node in pipeline.nodes)


class NativePreload:
    """Run hook: loads `libtorch_cpu` in the background once a training run executes a node.

    Args:
        library: The library to load (default: `torch_library()` when the run starts).
    """

    def __init__(self, library: Path | None = None) -> None:
        self._library = library
        self._wanted = False
        self.thread: threading.Thread | None = None

    def on_run_start(self, *, run_id: str, pipeline: Pipeline, **future: Any) -> None:
        """Decide whether this run loads PyTorch; nothing is loaded yet."""
        if os.environ.get(DISABLE_ENV, "1") == "0" or not trains(pipeline):
            return
        self._library = self._library or torch_library()
        self._wanted = self._library is not None

    def on_node_state(self, *, node: NodeRun, **future: Any) -> None:
        """The first node that executes (rather than comes from the cache) starts the load."""
        if self._wanted and self.thread is None and node.state == "running":
            assert self._library is not None
            self.thread = start_load(self._library)

    def on_run_stopping(
        self, *, reason: str, grace_s: float, nodes: list[str], **future: Any
    ) -> None:
        """Nothing to stop: the load ends on its own."""

    def on_node_progress(self, *, node: NodeRun, progress: Any, **future: Any) -> None:
        """Not followed."""

    def on_run_end(self, *, run: Any, **future: Any) -> None:
        """Not followed."""
