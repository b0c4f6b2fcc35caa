"""An endpoint's `shipyard serve` process: started on 127.0.0.1, waited for, stopped.

The process runs in a session of its own, so it outlives a server that crashes (the next
server adopts it, `manager`) and its workers stop with it (the signal goes to the group).
Its output is appended to the endpoint's log file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from shipyard.client import Client
from shipyard.errors import ServingError
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

__all__ = ["ServeProcess", "free_port", "is_alive", "serving_versions"]

POLL_S: Final = 0.5
"""How often the endpoint's server reads its model config and repository again."""
_LOG_TAIL_BYTES: Final = 2_000


def is_alive(pid: int) -> bool:
    """Whether a process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: the state after the command's closing parenthesis; Z is a zombie
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def serving_versions(url: str, model: str, *, timeout_s: float = 5.0) -> dict[int, str]:
    """Return the state of each version of `model` the server at `url` knows.

    Raises:
        ServingError: The server cannot be reached or does not know the model.
    """
    with Client(url, timeout_s=timeout_s) as client:
        return {int(s["version"]): str(s["state"]) for s in client.status(model)}


class ServeProcess:
    """A `shipyard serve` of one model config, on one port of 127.0.0.1.

    Args:
        pid: The process's id (its process group's too).
        port: The port it listens on.
        log_file: Where its output goes.
        child: The `Popen` when this process started it (None when adopted).
    """

    def __init__(
        self, pid: int, port: int, log_file: Path, child: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.pid = pid
        self.port = port
        self.log_file = log_file
        self._child = child

    @classmethod
    def start(
        cls,
        model_config: Path,
        log_file: Path,
        *,
        environment: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> ServeProcess:
        """Start `shipyard serve --model-config MODEL_CONFIG` on 127.0.0.1.

        Args:
            model_config: The endpoint's model config.
            log_file: Where its output goes (appended).
            environment: Its environment variables (None: this process's).
            port: The port to listen on (None: a free one).
        """
        port = free_port() if port is None else port
        argv = [
            sys.executable, "-m", "shipyard", "serve",
            "--model-config", str(model_config),
            "--host", "127.0.0.1", "--port", str(port),
            "--poll-seconds", str(POLL_S),
        ]  # fmt: skip
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=None if environment is None else dict(environment),
            )
        return cls(child.pid, port, log_file, child)

    @property
    def url(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def exit_code(self) -> int | None:
        """The process's exit code once it ended (-1 for an adopted one); None while it runs."""
        if self._child is not None:
            return self._child.poll()
        return None if is_alive(self.pid) else -1

    def wait_serving(self, model: str, versions: Collection[int], *, timeout_s: float) -> None:
        """Return once the server has every one of `versions` of `model` available.

        Raises:
            ServingError: The process ended, or the versions are not available in time.
        """
        deadline = time.monotonic() + timeout_s
        wanted = set(versions)
        states: dict[int, str] = {}
        problem = "no answer yet"
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                raise ServingError(
                    f"The endpoint's server (pid {self.pid}) exited with code {code} before "
                    f"serving {model!r}; its log {self.log_file} ends with:\n{self.log_tail()}",
                    url=self.url,
                )
            try:
                states = serving_versions(self.url, model)
            except ServingError as error:
                problem = error.message
            else:
                available = {v for v, state in states.items() if state == "AVAILABLE"}
                if wanted <= available:
                    return
                problem = f"versions and states: {states or 'none'}"
            time.sleep(0.1)
        raise ServingError(
            f"The endpoint's server at {self.url} did not serve versions "
            f"{sorted(wanted)} of {model!r} within {timeout_s:g} s ({problem}); see its log "
            f"{self.log_file}.",
            url=self.url,
        )

    def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop the process and its workers: SIGTERM, then SIGKILL after `grace_s` seconds."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while self.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.exit_code() is None:
            self._signal(signal.SIGKILL)
            if self._child is not None:
                self._child.wait()

    def log_tail(self) -> str:
        """The end of the process's log."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES))
                return log.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return "(no log)"

    def _signal(self, number: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, number)
