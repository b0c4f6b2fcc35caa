"""The whole Shipyard error hierarchy.

Every error subclasses `ShipyardError` and the builtin exception users already catch, so
`except ValueError` still works. Each message answers: what, where, what it got, what to do.
The CLI prints `headline`, the location and the message for these; anything else is a bug.
"""

from __future__ import annotations


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose."""

    headline = "Shipyard error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n{self.hint}"


class DefinitionError(ShipyardError, TypeError):
    """A component or pipeline is declared or wired wrongly; raised while it is built."""

    headline = "Invalid pipeline definition"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class InvalidParameterError(ShipyardError, ValueError):
    """A parameter, option or flag has a value it cannot take."""

    headline = "Invalid parameter"


class DataError(ShipyardError, ValueError):
    """Input data is unreadable or violates what was expected of it."""

    headline = "Bad input data"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                path,
                None if row is None else f"row {row}",
                None if column is None else f"column {column!r}",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.row = row
        self.column = column


class MixedTypesError(DataError):
    """A value that does not fit its column's type: a word among numbers.

    When the type was inferred from the first rows (not declared with `column_types`),
    readers catch it and read the column again as text (or as floats, for a float among
    integers), and validation reports the words.

    Attributes:
        value: The value that does not fit.
    """

    def __init__(
        self, message: str, *, value: object, path: str | None, row: int | None, column: str
    ) -> None:
        super().__init__(message, path=path, row=row, column=column)
        self.value = value


class RunStopped(ShipyardError):
    """A component wrote its outputs in full, then stops the run on purpose.

    The runner publishes and records the outputs (they explain why the run stopped), marks
    the node failed and skips everything downstream, as TFX records ExampleValidator's
    anomalies whether or not the run goes on. Raise it only after every output is saved.
    """

    headline = "Run stopped"


class AnomaliesFound(DataError, RunStopped):
    """Validation found anomalies in data and the pipeline was told to stop on them."""

    headline = "Data anomalies found"


class NotFoundError(ShipyardError, LookupError):
    """A run, artifact, execution or file that was asked for does not exist."""

    headline = "Not found"


class AlreadyExistsError(ShipyardError, ValueError):
    """Something to be created exists already: a user, a project (answered 409 over HTTP)."""

    headline = "Already exists"


class ConfigError(ShipyardError, ValueError):
    """The project configuration (store URL, artifact root, config file) is unusable."""

    headline = "Invalid configuration"


class PlatformError(ShipyardError, RuntimeError):
    """Shipyard itself failed (publishing, storage, the store, the disk), not the user's code.

    The runner reports these apart from `ComponentFailed`: the headline says which part of the
    platform failed, the message names the path and the hint says how to fix it.

    Attributes:
        path: The file, directory or URL involved, when there is one.
    """

    headline = "Platform error"

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path


class StorageError(PlatformError):
    """Artifact storage cannot be written: disk full, read-only, unreachable or not ours."""

    headline = "Artifact storage error"


class StoreError(PlatformError):
    """The metadata store cannot be opened, migrated or written."""

    headline = "Metadata store error"


class PluginNotInstalled(ShipyardError, ImportError):
    """A backend was selected whose optional dependencies are not installed."""

    headline = "Plugin not installed"


class ComponentFailed(ShipyardError):
    """User code inside a component raised.

    Where the component ran in this process, `__cause__` is the original exception; from
    another process or machine, `exception_type` still names its type (`RuntimeError`).
    """

    headline = "Component failed"

    def __init__(
        self, message: str, *, node: str, user_traceback: str, exception_type: str = ""
    ) -> None:
        super().__init__(message)
        self.node = node
        self.user_traceback = user_traceback
        self.exception_type = exception_type


class ExecutionInterrupted(ShipyardError):
    """A running component stopped on request (Ctrl-C), after saving what lets it resume.

    Raised by `TaskContext.check_interrupted()` and by the training loop once its checkpoint
    is written; the runner records the node as interrupted, not as failed by the user's code.
    """

    headline = "Interrupted"


class WorkerFailed(ShipyardError, RuntimeError):
    """A process of a distributed training (`train(workers=N)`) raised, exited or was killed.

    `rank` names the process; `worker_traceback` is its traceback (empty when it was killed).
    """

    headline = "Training worker failed"

    def __init__(
        self, message: str, *, rank: int, worker_traceback: str = "", hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.rank = rank
        self.worker_traceback = worker_traceback


class RunFailed(ShipyardError):
    """A pipeline run ended with failed nodes."""

    headline = "Run failed"

    def __init__(self, message: str, *, run_id: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id


class ServingError(ShipyardError, RuntimeError):
    """The server answered with an error, or could not be reached.

    Attributes:
        url: The URL of the request.
        status: The HTTP status (400 bad input, 404 unknown model, version or label, 413
            body too large), or None when no answer came.
        server_message: The server's `error` message, or None.
    """

    headline = "Serving error"

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        server_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status
        self.server_message = server_message


class QueueFullError(ShipyardError, RuntimeError):
    """A version's batch queue is full: the server sheds load (HTTP 503, TF's UNAVAILABLE)."""

    headline = "Server overloaded"


class ArtifactDeletedError(StoreError):
    """A run tried to read or reuse an artifact that `shipyard gc` has deleted meanwhile."""

    headline = "Artifact deleted"


class ServerRequestError(ShipyardError, RuntimeError):
    """The platform server (`shipyard server`) refused a request, or could not be reached.

    Attributes:
        url: The URL of the request.
        status: The HTTP status (401 no valid token, 403 not allowed, 404 not found, 409 not
            in this state, 413 package too large), or None when no answer came.
    """

    headline = "Platform server error"

    def __init__(
        self, message: str, *, url: str, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status
