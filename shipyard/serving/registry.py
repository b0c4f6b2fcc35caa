"""The versions served for each model, kept in step with the disk, and request routing.

`sync` scans each base path, picks the versions the policy asks for among those that load,
loads and warms up the new ones *before* they take traffic, swaps them in, and retires the
versions no longer wanted (their sessions go once their in-flight requests finish). A
version that fails to load is reported in the status (`END`, with its error) and skipped, so
`latest` falls back to the newest version that loads; it is tried again when its files
change. Requests name a model and optionally a version or a label (`acquire`); URLs never
become paths, so they cannot reach outside a base path.

A request that names neither goes to the newest version; with a canary, to the newest
version other than the canary one, except for `percent` of the inference requests, which go
to the canary version (when it is loaded beside another).
"""

from __future__ import annotations

import logging
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import DataError, NotFoundError
from shipyard.serving.loaded_model import LoadedModel, providers
from shipyard.serving.repository import fingerprint, scan_versions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from shipyard.serving.batching import BatchScheduler
    from shipyard.serving.config import ModelConfig, RuntimeOptions

logger = logging.getLogger("shipyard.serving")


@dataclass(frozen=True)
class VersionStatus:
    """The state of one version, in TF Serving's terms.

    Attributes:
        version: The version number.
        state: `LOADING`, `AVAILABLE` or `END` (failed to load).
        error_code: `OK`, or the failure's code (`NOT_FOUND`, `INVALID_ARGUMENT`, `UNKNOWN`).
        error_message: Why the version failed to load; "" when it did not.
    """

    version: int
    state: str
    error_code: str = "OK"
    error_message: str = ""


@dataclass(frozen=True)
class _Failure:
    status: VersionStatus
    fingerprint: tuple[tuple[str, int, int], ...]


class _ServedModel:
    """What the registry knows of one model; `loaded` is replaced, never mutated.

    `newest` is the newest version loaded (None when none is), kept with `loaded`: the
    version of every request that names neither a version nor a label when there is no
    canary.
    """

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.loaded: dict[int, LoadedModel] = {}
        self.newest: LoadedModel | None = None
        self.loading: set[int] = set()
        self.failures: dict[int, _Failure] = {}

    def swap(self, loaded: dict[int, LoadedModel]) -> None:
        """Serve the versions in `loaded` from now on (under the registry's lock)."""
        self.loaded = loaded
        self.newest = loaded[max(loaded)] if loaded else None


class ModelRegistry:
    """The models a server serves, by name, and their loaded versions.

    Example:
        >>> registry = ModelRegistry([ModelConfig("penguins", base)], RuntimeOptions())
        >>> registry.sync()
        >>> with registry.acquire("penguins") as model:
        ...     outputs = model.run(feed)
    """

    def __init__(
        self,
        models: Iterable[ModelConfig],
        runtime: RuntimeOptions,
        *,
        scheduler: BatchScheduler | None = None,
        on_versions: Callable[[str, list[int]], None] | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        """Prepare to serve `models`; nothing loads until `sync`.

        Args:
            models: The models to serve.
            runtime: ONNX Runtime settings for every session.
            scheduler: Batches the requests of every version, when given.
            on_versions: Called with a model's name and loaded versions after each change.
            draw: Returns a number in [0, 1) for each canary decision.

        Raises:
            InvalidParameterError: The runtime asks for a device ONNX Runtime lacks.
        """
        providers(runtime.device)
        self._runtime = runtime
        self._scheduler = scheduler
        self._on_versions = on_versions
        self._draw = draw
        self._models = {config.name: _ServedModel(config) for config in models}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        """The served model names, sorted."""
        return sorted(self._models)

    def reconfigure(self, models: Iterable[ModelConfig]) -> list[str]:
        """Take new configs (labels, canary, policy, base path) for the models served.

        The next `sync` loads and retires versions by the new policies. Models are added
        or removed only by a restart (the metrics and the OpenAPI document list them).

        Returns:
            The names in `models` that are not served, which were ignored.
        """
        ignored = []
        with self._lock:
            for config in models:
                served = self._models.get(config.name)
                if served is None:
                    ignored.append(config.name)
                else:
                    served.config = config
        return ignored

    def config(self, name: str) -> ModelConfig:
        """The config `name` is served with now.

        Raises:
            NotFoundError: No model is called `name`.
        """
        return self._served(name).config

    def sync(self) -> None:
        """Bring every model in step with its base path (see the module docstring)."""
        with self._sync_lock:
            for served in self._models.values():
                self._sync_model(served)

    @contextmanager
    def acquire(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        split: bool = False,
    ) -> Iterator[LoadedModel]:
        """Hold a version of `name` for one request: the default, `version` or `label`'s.

        Args:
            name: The model.
            version: The version asked for, if any.
            label: The label asked for, if any.
            split: Whether the request takes part in the canary split (inference does).

        Raises:
            NotFoundError: No such model, version or label, or the version is not loaded.
        """
        model = self.enter(name, version=version, label=label, split=split)
        try:
            yield model
        finally:
            model.leave()

    def enter(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        split: bool = False,
    ) -> LoadedModel:
        """`acquire` without a context manager (the request path): call `leave()` after.

        Raises:
            NotFoundError: No such model, version or label, or the version is not loaded.
        """
        with self._lock:
            served = self._models.get(name)
            model = None
            if served is not None and version is None and label is None:
                model = served.newest if served.config.canary is None else None
            if model is None:
                model = self._resolve(name, version, label, split=split)
            model.enter()
        return model

    def available_versions(self, name: str) -> list[int]:
        """The loaded versions of `name`, newest first.

        Raises:
            NotFoundError: No model is called `name`.
        """
        return sorted(self._served(name).loaded, reverse=True)

    def status(
        self, name: str, *, version: int | None = None, label: str | None = None
    ) -> list[VersionStatus]:
        """The state of each version of `name` the server knows, newest first.

        Raises:
            NotFoundError: No such model or label, or no such version known.
        """
        served = self._served(name)
        if label is not None:
            version = self._label_version(served, label)
        with self._lock:
            states = {v: failure.status for v, failure in served.failures.items()}
            states |= {v: VersionStatus(v, "LOADING") for v in served.loading}
            states |= {v: VersionStatus(v, "AVAILABLE") for v in served.loaded}
        if version is not None:
            states = {v: s for v, s in states.items() if v == version}
        if not states:
            which = "any version" if version is None else f"version {version}"
            raise NotFoundError(
                f"Could not find {which} of the model {name!r} (policy "
                f"{served.config.version_policy.describe()}); check its base path."
            )
        return [states[v] for v in sorted(states, reverse=True)]

    def is_ready(self, name: str | None = None) -> bool:
        """Whether `name` (default: every model) has a version available.

        Raises:
            NotFoundError: No model is called `name`.
        """
        names = self.names if name is None else [self._served(name).config.name]
        return all(self._models[n].loaded for n in names)

    def close(self) -> None:
        """Retire every version; sessions go as their last requests finish."""
        with self._lock:
            retired = [m for served in self._models.values() for m in served.loaded.values()]
            for served in self._models.values():
                served.swap({})
        for model in retired:
            model.retire()

    def _served(self, name: str) -> _ServedModel:
        served = self._models.get(name)
        if served is None:
            raise NotFoundError(
                f"The model {name!r} is not served here (served: {', '.join(self.names)})."
            )
        return served

    def _label_version(self, served: _ServedModel, label: str) -> int:
        version = served.config.labels.get(label)
        if version is None:
            known = ", ".join(sorted(served.config.labels)) or "none"
            raise NotFoundError(
                f"The model {served.config.name!r} has no version label {label!r} "
                f"(labels: {known})."
            )
        return version

    def _resolve(
        self, name: str, version: int | None, label: str | None, *, split: bool
    ) -> LoadedModel:
        served = self._served(name)
        if label is not None:
            version = self._label_version(served, label)
        loaded = served.loaded
        if not loaded:
            raise NotFoundError(f"The model {name!r} has no version available yet.")
        if version is None:
            canary = served.config.canary
            if canary is None or canary.version not in loaded or len(loaded) == 1:
                return loaded[max(loaded)]
            if split and self._draw() * 100 < canary.percent:
                return loaded[canary.version]
            return loaded[max(v for v in loaded if v != canary.version)]
        model = loaded.get(version)
        if model is None:
            via = f" (label {label!r})" if label is not None else ""
            raise NotFoundError(
                f"Version {version}{via} of the model {name!r} is not available; available: "
                f"{', '.join(map(str, sorted(loaded, reverse=True)))}."
            )
        return model

    def _sync_model(self, served: _ServedModel) -> None:
        config = served.config
        on_disk = scan_versions(config.base_path)
        changed = [
            version
            for version, failure in served.failures.items()
            if version not in on_disk or fingerprint(on_disk[version]) != failure.fingerprint
        ]
        with self._lock:  # status() reads the failures meanwhile
            for version in changed:
                del served.failures[version]
        current = served.loaded
        fresh: dict[int, LoadedModel] = {}
        while True:
            wanted = config.version_policy.select([v for v in on_disk if v not in served.failures])
            pending = sorted(wanted - current.keys() - fresh.keys(), reverse=True)
            if not pending:
                break
            for version in pending:
                model = self._load(served, version, on_disk[version])
                if model is not None:
                    fresh[version] = model
        table = {v: current.get(v) or fresh[v] for v in sorted(wanted)}
        with self._lock:
            served.swap(table)
        for version, model in [*current.items(), *fresh.items()]:
            if version not in table:
                logger.info("Unloading %s version %d.", config.name, version)
                model.retire()
        if self._on_versions is not None and table.keys() != current.keys():
            self._on_versions(config.name, sorted(table))

    def _load(self, served: _ServedModel, version: int, path: Path) -> LoadedModel | None:
        """Load one version; on failure record it in `served.failures` and return None."""
        config = served.config
        before = fingerprint(path)
        with self._lock:
            served.loading.add(version)
        try:
            model = LoadedModel.load(
                name=config.name,
                version=version,
                base_path=config.base_path,
                runtime=self._runtime,
                scheduler=self._scheduler,
            )
        except Exception as exc:  # a broken version must never stop the others
            code = _error_code(exc)
            message = f"version {version} of {config.name!r} failed to load: {exc}"
            log = logger.warning if code != "UNKNOWN" else logger.exception
            log("Skipping %s", message)
            failure = _Failure(VersionStatus(version, "END", code, message), before)
            with self._lock:
                served.failures[version] = failure
            return None
        finally:
            with self._lock:
                served.loading.discard(version)
        logger.info("Loaded %s version %d from %s.", config.name, version, model.path)
        return model


def _error_code(error: Exception) -> str:
    """TF Serving's error code for a load failure."""
    if isinstance(error, NotFoundError):
        return "NOT_FOUND"
    return "INVALID_ARGUMENT" if isinstance(error, DataError) else "UNKNOWN"
