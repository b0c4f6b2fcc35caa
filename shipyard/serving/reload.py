"""Hot reload: a daemon thread that syncs the registry with the disk every `poll_s` seconds.

A new version is loaded and warmed up before it takes traffic, and a replaced one keeps its
session until its in-flight requests finish (see `ModelRegistry.sync`), so no request is
lost during a switch. When the models came from a config file, the file is read again
whenever its size or modification time changes, so new labels, canaries and version
policies (`push` with a canary, `shipyard promote`) apply without a restart; a file that
is invalid meanwhile is logged and the models keep their previous config.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from shipyard.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.serving.registry import ModelRegistry

logger = logging.getLogger("shipyard.serving")


class Reloader:
    """Polls the base paths of a registry's models on a background thread.

    Example:
        >>> reloader = Reloader(registry, poll_s=2.0)
        >>> reloader.start()
        >>> reloader.stop()
    """

    def __init__(
        self, registry: ModelRegistry, *, poll_s: float, config_file: Path | None = None
    ) -> None:
        """Prepare to sync `registry` every `poll_s` seconds; 0 or less never polls.

        Args:
            registry: The models to keep in step.
            poll_s: Seconds between scans.
            config_file: The model config file the models came from, read again when it
                changes.
        """
        self._registry = registry
        self._poll_s = poll_s
        self._config_file = config_file
        self._config_seen = self._stamp()
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
                self.reread_config()
                self._registry.sync()
            except Exception:  # keep polling: the next scan may succeed
                logger.exception(
                    "Syncing the model repository failed; retrying in %ss.", self._poll_s
                )

    def reread_config(self) -> bool:
        """Read the config file again if it changed; return whether new configs applied."""
        stamp = self._stamp()
        if self._config_file is None or stamp == self._config_seen:
            return False
        from shipyard.serving.config import read_model_config

        self._config_seen = stamp
        try:
            models = read_model_config(self._config_file).models
        except ConfigError as error:
            logger.error("Keeping the previous model config: %s", error)
            return False
        ignored = self._registry.reconfigure(models)
        if ignored:
            logger.warning(
                "The model config %s lists models not served here (%s); restart the server "
                "to serve them.",
                self._config_file,
                ", ".join(ignored),
            )
        logger.info("Read the model config %s again.", self._config_file)
        return True

    def _stamp(self) -> tuple[int, int] | None:
        if self._config_file is None:
            return None
        try:
            stat = self._config_file.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size
