"""Hot reload: a daemon thread that syncs the registry with the disk every `poll_s` seconds.

A new version is loaded and warmed up before it takes traffic, and a replaced one keeps its
session until its in-flight requests finish (see `ModelRegistry.sync`), so no request is
lost during a switch.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.serving.registry import ModelRegistry

logger = logging.getLogger("shipyard.serving")


class Reloader:
    """Polls the base paths of a registry's models on a background thread.

    Example:
        >>> reloader = Reloader(registry, poll_s=2.0)
        >>> reloader.start()
        >>> reloader.stop()
    """

    def __init__(self, registry: ModelRegistry, *, poll_s: float) -> None:
        """Prepare to sync `registry` every `poll_s` seconds; 0 or less never polls."""
        self._registry = registry
        self._poll_s = poll_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling (no-op when `poll_s` <= 0)."""
        if self._poll_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="shipyard-reload", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop polling; wait up to `timeout_s` for a sync in progress to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self._poll_s):
            try:
                self._registry.sync()
            except Exception:  # keep polling: the next scan may succeed
                logger.exception(
                    "Syncing the model repository failed; retrying in %ss.", self._poll_s
                )
