"""The endpoints' supervisor: one per server process, keeping each endpoint's server running.

`EndpointSupervisor` starts an endpoint's `shipyard serve` when its first version is
deployed, writes later deploys to its repository and model config (the running server
reloads them, without a restart), promotes or rolls back its canary, and stops it when the
endpoint is deleted. A thread checks the processes every `check_interval_s` and restarts a
dead one, up to `max_restarts` times from its last deploy; then the endpoint is `failed`,
with a message naming its log, until the next deploy.

State lives in the endpoints' rows, so a server that restarts (`start`) adopts the servers
still running from before (their process answers on their port) and restarts the others.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Final

from shipyard.errors import ConfigError, InvalidParameterError, NotFoundError, ServingError
from shipyard.platform.models.deployment import Deployment
from shipyard.platform.models.endpoints import Endpoints
from shipyard.platform.models.serve_process import ServeProcess, is_alive, serving_versions
from shipyard.platform.models.status import EndpointStatus, StatusReader
from shipyard.serving.labels import Release

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from shipyard.platform.auth.records import Actor
    from shipyard.platform.models.records import Endpoint
    from shipyard.platform.models.registry import ModelRegistry

__all__ = ["EndpointSupervisor"]

_Key = tuple[str, str]
_LIVE: Final = ("starting", "running")


class EndpointSupervisor:
    """Endpoints and their `shipyard serve` processes (see the module's docstring).

    Args:
        registry: The registered models whose versions endpoints serve; the endpoints' rows
            are in its database.
        root: The server's data directory; endpoints' files go under `DATA_DIR/endpoints/`.
        start_timeout_s: How long a server may take to serve a deployed version.
        check_interval_s: Seconds between checks of the processes.
        max_restarts: Restarts since the last deploy before an endpoint is left `failed`.
        environment: The environment of the servers it starts (None: this process's).

    Example:
        >>> supervisor = EndpointSupervisor(registry, Path("/srv/shipyard"))
        >>> supervisor.start()
        >>> supervisor.create("taxi", "fares", model="fares", actor=Actor("ana"))
        >>> supervisor.deploy("taxi", "fares", stable=1, actor=Actor("ana")).url
        'http://127.0.0.1:40123'
    """

    def __init__(
        self,
        registry: ModelRegistry,
        root: Path,
        *,
        start_timeout_s: float = 120.0,
        check_interval_s: float = 1.0,
        max_restarts: int = 3,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoints = Endpoints(registry.database)
        self.registry = registry
        self.root = root
        self.start_timeout_s = start_timeout_s
        self.check_interval_s = check_interval_s
        self.max_restarts = max_restarts
        self.environment = environment
        self._processes: dict[_Key, ServeProcess] = {}
        self._locks: defaultdict[_Key, threading.Lock] = defaultdict(threading.Lock)
        self._status = StatusReader()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    # Lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Adopt or restart the endpoints that were serving, then watch their processes."""
        for endpoint in self.endpoints.list_endpoints():
            if endpoint.state in _LIVE:
                with self._lock(endpoint):
                    self._adopt_or_restart(endpoint)
        self._closing.clear()
        self._thread = threading.Thread(target=self._watch, name="endpoints", daemon=True)
        self._thread.start()

    def close(self, *, stop_servers: bool = True) -> None:
        """Stop watching; stop the endpoints' servers too unless `stop_servers` is False
        (then the next server adopts them)."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if stop_servers:
            for key, process in list(self._processes.items()):
                process.stop()
                with contextlib.suppress(NotFoundError):  # deleted by another server
                    self.endpoints.set_process(
                        *key, pid=None, port=None, message="stopped with the server"
                    )
            self._processes.clear()

    # Changes --------------------------------------------------------------------------------
    def create(self, project: str, name: str, *, model: str, actor: Actor) -> Endpoint:
        """Add an endpoint for a registered model; it starts with its first deploy."""
        return self.endpoints.create(project, name, model=model, actor=actor)

    def deploy(
        self,
        project: str,
        name: str,
        *,
        stable: int,
        canary: int | None = None,
        canary_percent: float = 0.0,
        actor: Actor,
    ) -> Endpoint:
        """Serve version `stable`, and `canary` with `canary_percent` of unlabeled requests.

        The versions' files are installed and the model config rewritten; a running server
        reloads them, a stopped one is started. Returns once the server serves both.

        Raises:
            InvalidParameterError: The canary is the stable version, or its share is not in
                (0, 100] with a canary (0 without one).
            NotFoundError: No such endpoint or registered version.
            ServingError: The server did not serve them in time (its log says why).
        """
        release = _release(stable, canary, canary_percent)
        endpoint = self.endpoints.get(project, name)
        deployment = self._deployment(endpoint)
        versions = [self.registry.get_version(project, endpoint.model, v) for v in _named(release)]
        with self._lock(endpoint):
            for version in versions:
                deployment.install(version)
            deployment.write(release)
            endpoint = self.endpoints.release(
                project, name, release, actor=actor, action="endpoint.deploy"
            )
            return self._serve(endpoint, deployment)

    def end_canary(self, project: str, name: str, *, promote: bool, actor: Actor) -> Endpoint:
        """Promote the canary to stable, or roll it back to the stable version alone.

        Raises:
            NotFoundError: No such endpoint.
            ConfigError: It has no canary.
        """
        endpoint = self.endpoints.get(project, name)
        deployment = self._deployment(endpoint)
        with self._lock(endpoint):
            if deployment.current().canary is None:
                raise ConfigError(
                    f"Endpoint {name!r} of project {project!r} has no canary to "
                    f"{'promote' if promote else 'roll back'}; deploy one with PUT "
                    f".../endpoints/{name}/traffic."
                )
            release = deployment.end_canary(promote=promote)
            action = "endpoint.promote" if promote else "endpoint.rollback"
            endpoint = self.endpoints.release(project, name, release, actor=actor, action=action)
            return self._serve(endpoint, deployment)

    def delete(self, project: str, name: str, *, actor: Actor) -> None:
        """Stop the endpoint's server, remove its files and its row.

        Raises:
            NotFoundError: No such endpoint.
        """
        endpoint = self.endpoints.get(project, name)
        with self._lock(endpoint):
            process = self._processes.pop((project, name), None)
            if process is not None:
                process.stop()
            self.endpoints.delete(project, name, actor=actor)
            self._deployment(endpoint).remove()

    # Reading --------------------------------------------------------------------------------
    def status(self, project: str, name: str) -> EndpointStatus:
        """The endpoint and what its server serves now, with its figures.

        Raises:
            NotFoundError: No such endpoint.
        """
        return self._status.read(self.endpoints.get(project, name))

    def list_endpoints(self, project: str) -> list[Endpoint]:
        """The project's endpoints, by name."""
        return self.endpoints.list_endpoints(project)

    # Processes ------------------------------------------------------------------------------
    def _serve(self, endpoint: Endpoint, deployment: Deployment) -> Endpoint:
        """Make the endpoint's server serve what its config labels; start it if it is not up."""
        versions = _named(deployment.current())
        process = self._processes.get((endpoint.project, endpoint.name))
        if process is None or process.exit_code() is not None:
            return self._launch(endpoint, deployment, restarts=0)
        try:
            process.wait_serving(endpoint.model, versions, timeout_s=self.start_timeout_s)
        except ServingError as error:
            self.endpoints.set_process(endpoint.project, endpoint.name, message=error.message)
            raise
        return self.endpoints.set_process(
            endpoint.project, endpoint.name, message=f"serving {_describe(deployment.current())}"
        )

    def _launch(self, endpoint: Endpoint, deployment: Deployment, *, restarts: int) -> Endpoint:
        key = (endpoint.project, endpoint.name)
        process = ServeProcess.start(
            deployment.model_config, deployment.log_file, environment=self.environment
        )
        self.endpoints.set_process(
            *key,
            state="starting",
            pid=process.pid,
            port=process.port,
            restarts=restarts,
            message=f"starting on {process.url}",
        )
        try:
            process.wait_serving(
                endpoint.model, _named(deployment.current()), timeout_s=self.start_timeout_s
            )
        except ServingError as error:
            process.stop()
            self.endpoints.set_process(
                *key, state="failed", pid=None, port=None, message=error.message
            )
            raise
        self._processes[key] = process
        return self.endpoints.set_process(
            *key, state="running", message=f"serving {_describe(deployment.current())}"
        )

    def _adopt_or_restart(self, endpoint: Endpoint) -> None:
        key = (endpoint.project, endpoint.name)
        deployment = self._deployment(endpoint)
        if endpoint.pid is not None and endpoint.port is not None and is_alive(endpoint.pid):
            adopted = ServeProcess(endpoint.pid, endpoint.port, deployment.log_file)
            try:
                serving_versions(adopted.url, endpoint.model)
            except ServingError:
                adopted.stop()  # alive but not answering: start afresh
            else:
                self._processes[key] = adopted
                self.endpoints.set_process(
                    *key, state="running", message=f"adopted the server on {adopted.url}"
                )
                return
        try:  # not a restart after a crash: the count stays
            self._launch(endpoint, deployment, restarts=endpoint.restarts)
        except ServingError:
            return  # `_launch` recorded why; the next deploy starts it again

    def _restart(self, endpoint: Endpoint, deployment: Deployment, *, reason: str) -> None:
        key = (endpoint.project, endpoint.name)
        self._processes.pop(key, None)
        if endpoint.restarts >= self.max_restarts:
            message = (
                f"{reason}; restarted {endpoint.restarts} times since its last deploy, so it is "
                f"left stopped: see {deployment.log_file}, then deploy again"
            )
            self.endpoints.set_process(*key, state="failed", pid=None, port=None, message=message)
            return
        try:
            self._launch(endpoint, deployment, restarts=endpoint.restarts + 1)
        except ServingError:
            return  # `_launch` recorded why; the next deploy starts it again

    def _watch(self) -> None:
        while not self._closing.wait(self.check_interval_s):
            for key, process in list(self._processes.items()):
                code = process.exit_code()
                if code is None or self._closing.is_set():
                    continue
                lock = self._locks[key]
                if not lock.acquire(blocking=False):
                    continue  # a deploy or delete is at work on it
                try:
                    if self._processes.get(key) is not process:
                        continue
                    endpoint = self.endpoints.get(*key)
                    self._restart(
                        endpoint,
                        self._deployment(endpoint),
                        reason=f"its server (pid {process.pid}) exited with code {code}",
                    )
                except Exception:  # noqa: S112 - deleted meanwhile, or the database is away
                    continue
                finally:
                    lock.release()

    def _lock(self, endpoint: Endpoint) -> threading.Lock:
        return self._locks[(endpoint.project, endpoint.name)]

    def _deployment(self, endpoint: Endpoint) -> Deployment:
        return Deployment.of(self.root, endpoint.project, endpoint.name, endpoint.model)


def _release(stable: int, canary: int | None, canary_percent: float) -> Release:
    if canary is None:
        if canary_percent:
            raise InvalidParameterError(
                f"'canary_percent' is {canary_percent:g} but no 'canary' version is given; "
                f"name the canary, or leave the share out."
            )
        return Release(stable=stable)
    if canary == stable:
        raise InvalidParameterError(
            f"The 'canary' version must differ from the 'stable' one. Got {canary} for both."
        )
    if not 0 < canary_percent <= 100:
        raise InvalidParameterError(
            f"The 'canary_percent' must be a number in (0, 100] with a canary. "
            f"Got {canary_percent:g} instead."
        )
    return Release(stable=stable, canary=canary, percent=float(canary_percent))


def _named(release: Release) -> list[int]:
    return [v for v in (release.stable, release.canary) if v is not None]


def _describe(release: Release) -> str:
    text = f"version {release.stable} (stable)"
    if release.canary is not None:
        text += f" and {release.canary} (canary, {release.percent:g}%)"
    return text
