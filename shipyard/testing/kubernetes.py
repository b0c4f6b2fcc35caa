"""A Kubernetes API server on 127.0.0.1 that holds Kubeflow `PyTorchJob`s, for tests.

It speaks the part of the API a compiled pipeline's launcher task uses (`POST`, `GET` and
`DELETE` on `/apis/kubeflow.org/v1/namespaces/NS/pytorchjobs[/NAME]`, JSON bodies, `Status`
bodies for errors), checks what the API server and the Training Operator's webhook would
refuse (a name that is no DNS-1035 label, a non-string `nprocPerNode`, no `pytorch`
container, not one Master), and plays the operator: each read of a job moves it one step
along its scripted conditions (`Created`, `Running`, then `Succeeded` or `Failed`). Faults
are scripted too: a status code for the next requests of a method (403, 503...), a token the
requests must carry, a job that outlives its deletion for a few reads (its finalizers).

Example:
    >>> with PyTorchJobServer(namespace="ml") as server:
    ...     api = KubeApi(server=server.url, namespace="ml")
    ...     launch(job, args, name="train-1", api=api, poll_s=0.01).succeeded
    True
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

__all__ = ["FAILED", "SUCCEEDED", "PyTorchJobServer", "Received"]

SUCCEEDED: Final = ("Created", "Running", "Succeeded")
"""The conditions of a job whose ranks all exit 0, one per read."""
FAILED: Final = ("Created", "Running", "Failed")
"""The conditions of a job one of whose ranks fails."""
_PATH = re.compile(
    r"^/apis/kubeflow\.org/v1/namespaces/(?P<namespace>[^/]+)/pytorchjobs(?:/(?P<name>[^/]+))?$"
)
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_REASONS: Final = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "AlreadyExists",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
}
_VERBS: Final = {"POST": "create", "GET": "get", "DELETE": "delete"}


@dataclass(frozen=True)
class Received:
    """One request the server answered.

    Attributes:
        method: `POST`, `GET` or `DELETE`.
        path: The request's path.
        body: Its JSON body, or None.
        headers: Its headers (names as sent).
        code: The status code it was answered with.
    """

    method: str
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]
    code: int


@dataclass
class _Job:
    body: dict[str, Any]
    conditions: tuple[str, ...]
    message: str
    step: int = 0
    reads_after_deletion: int | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def show(self) -> dict[str, Any]:
        """The job as a read returns it, then one step further along its conditions."""
        found: dict[str, Any] = copy.deepcopy(self.body)
        reached = self.conditions[: self.step + 1]
        found["status"] = {"conditions": [self._condition(kind, reached) for kind in reached]}
        if self.reads_after_deletion is not None:
            found["metadata"]["deletionTimestamp"] = self.created
        self.step = min(self.step + 1, len(self.conditions) - 1)
        return found

    def _condition(self, kind: str, reached: Sequence[str]) -> dict[str, Any]:
        name = self.body["metadata"]["name"]
        final = kind in ("Succeeded", "Failed")
        # The operator turns Running off once the job finished.
        live = final or not any(each in ("Succeeded", "Failed") for each in reached)
        message = self.message if final and self.message else f"PyTorchJob {name} is {kind}."
        return {
            "type": kind,
            "status": "True" if live else "False",
            "reason": f"PyTorchJob{kind}",
            "message": message,
            "lastTransitionTime": self.created,
        }


class PyTorchJobServer:
    """An HTTP Kubernetes API server holding PyTorchJobs, on a free port of 127.0.0.1.

    Use it as a context manager (or `start()` and `close()`); `url` is its address, for
    `KubeApi(server=url, ...)` or `SHIPYARD_KUBE_API`.

    Args:
        namespace: The namespace its jobs are in by default (`add`).
        conditions: The conditions a created job goes through, one per read (`SUCCEEDED`).
        message: The message of a created job's final condition (default: the operator's).
        token: The bearer token every request must carry (401 otherwise); None: any.
        installed: False answers 404 for every PyTorchJob path, as a cluster without the
            Training Operator's custom resource.
        reads_after_deletion: Reads for which a deleted job is still there (its
            finalizers), with a `deletionTimestamp`.
    """

    def __init__(
        self,
        *,
        namespace: str = "default",
        conditions: Sequence[str] = SUCCEEDED,
        message: str = "",
        token: str | None = None,
        installed: bool = True,
        reads_after_deletion: int = 0,
    ) -> None:
        if not conditions:
            raise ValueError("conditions: give at least one condition, such as 'Created'.")
        self.namespace = namespace
        self.conditions = tuple(conditions)
        self.message = message
        self.token = token
        self.installed = installed
        self.reads_after_deletion = reads_after_deletion
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._faults: list[tuple[str, int, str]] = []
        self._received: list[Received] = []
        self._lock = threading.Condition()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # `close` waits for one poll
            name="pytorchjob-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PyTorchJobServer:
        """Start answering requests (in a thread of this process)."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering and free the port."""
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()

    def __enter__(self) -> PyTorchJobServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def add(
        self,
        name: str,
        conditions: Sequence[str] = ("Created", "Running"),
        *,
        message: str = "",
        namespace: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Put a job there already (an earlier attempt's), at the first of its conditions."""
        namespace = namespace or self.namespace
        manifest = copy.deepcopy(body or {"apiVersion": "kubeflow.org/v1"})
        manifest["kind"] = "PyTorchJob"
        manifest.setdefault("metadata", {}).update({"name": name, "namespace": namespace})
        with self._lock:
            self._jobs[namespace, name] = _Job(manifest, tuple(conditions), message)

    def fail(self, method: str, code: int, *, times: int = 1, message: str = "") -> None:
        """Answer the next `times` requests of `method` with `code` and a `Status` body."""
        with self._lock:
            self._faults.extend([(method.upper(), code, message)] * times)

    def job(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The job as created (without its status), or None when there is none."""
        with self._lock:
            found = self._jobs.get((namespace or self.namespace, name))
            return None if found is None else copy.deepcopy(found.body)

    def received(self, method: str | None = None) -> list[Received]:
        """The requests answered so far (of `method` only, if given), oldest first."""
        with self._lock:
            return [each for each in self._received if method in (None, each.method)]

    def wait_for(self, method: str, *, count: int = 1, timeout_s: float = 30.0) -> Received:
        """Block until `count` requests of `method` were answered; return the last one.

        Raises:
            TimeoutError: Fewer came within `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(found := [r for r in self._received if r.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(found)} {method} request(s) in {timeout_s:g} s, expected "
                        f"{count}; received: {[(r.method, r.path) for r in self._received]}"
                    )
                self._lock.wait(left)
            return found[count - 1]

    def answer(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """The status code and JSON body for one request (what the handler sends)."""
        with self._lock:
            code, answer = self._answer(method, path, body, headers)
            self._received.append(Received(method, path, body, headers, code))
            self._lock.notify_all()
            return code, answer

    def _answer(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized")
        matched = _PATH.match(path)
        if matched is None or not self.installed:
            return _status(404, "the server could not find the requested resource")
        namespace, name = matched["namespace"], matched["name"]
        for index, (verb, code, message) in enumerate(self._faults):
            if verb == method:
                del self._faults[index]
                return _status(code, message or _default_message(code, method, namespace))
        if method == "POST" and name is None:
            return self._create(namespace, body)
        if method == "GET" and name is None:
            items = [job.body for (ns, _), job in self._jobs.items() if ns == namespace]
            return 200, {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJobList", "items": items}
        job = self._jobs.get((namespace, name)) if name is not None else None
        if method not in ("GET", "DELETE"):
            return _status(405, f"{method} is not supported on {path}")
        if job is None:
            return _status(404, f'pytorchjobs.kubeflow.org "{name}" not found', name)
        if method == "DELETE":
            if job.reads_after_deletion is None:
                job.reads_after_deletion = self.reads_after_deletion
            if job.reads_after_deletion <= 0:
                del self._jobs[namespace, str(name)]
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        shown = job.show()
        if job.reads_after_deletion is not None:
            job.reads_after_deletion -= 1
            if job.reads_after_deletion < 0:
                del self._jobs[namespace, str(name)]
                return _status(404, f'pytorchjobs.kubeflow.org "{name}" not found', name)
        return 200, shown

    def _create(self, namespace: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        problems = _invalid(body, namespace)
        name = str(((body or {}).get("metadata") or {}).get("name", ""))
        if problems:
            return _status(422, f'PyTorchJob.kubeflow.org "{name}" is invalid: {problems}', name)
        assert body is not None
        if (namespace, name) in self._jobs:
            return _status(409, f'pytorchjobs.kubeflow.org "{name}" already exists', name)
        created = copy.deepcopy(body)
        created["metadata"]["namespace"] = namespace
        self._jobs[namespace, name] = _Job(created, self.conditions, self.message)
        return 201, created


def _invalid(body: dict[str, Any] | None, namespace: str) -> str:
    """What the API server's schema or the operator's webhook would refuse in `body`."""
    if not isinstance(body, dict):
        return "the body is no JSON object"
    metadata = body.get("metadata") or {}
    spec = body.get("spec") or {}
    replicas = spec.get("pytorchReplicaSpecs") or {}
    problems = []
    if body.get("apiVersion") != "kubeflow.org/v1" or body.get("kind") != "PyTorchJob":
        problems.append("apiVersion/kind: expected kubeflow.org/v1 PyTorchJob")
    if not _DNS_1035.match(str(metadata.get("name", ""))):
        problems.append(f"metadata.name {metadata.get('name')!r}: not a DNS-1035 label")
    if metadata.get("namespace", namespace) != namespace:
        problems.append(f"metadata.namespace {metadata['namespace']!r}: not {namespace!r}")
    if "nprocPerNode" in spec and not isinstance(spec["nprocPerNode"], str):
        problems.append("spec.nprocPerNode: Invalid value: must be a string")
    if not replicas or set(replicas) - {"Master", "Worker"}:
        problems.append(f"spec.pytorchReplicaSpecs: {sorted(replicas)}: Master and Worker only")
    if "Master" in replicas and replicas["Master"].get("replicas") != 1:
        problems.append("spec.pytorchReplicaSpecs[Master].replicas: Forbidden: must be 1")
    if replicas.get("Worker", {}).get("replicas", 1) < 1:
        problems.append("spec.pytorchReplicaSpecs[Worker].replicas: Forbidden: must be at least 1")
    for kind, replica in replicas.items():
        containers = replica.get("template", {}).get("spec", {}).get("containers", [])
        if not any(container.get("name") == "pytorch" for container in containers):
            problems.append(f"spec.pytorchReplicaSpecs.{kind}: no container named pytorch")
    return "; ".join(problems)


def _default_message(code: int, method: str, namespace: str) -> str:
    if code == 403:
        return (
            f'pytorchjobs.kubeflow.org is forbidden: User "system:serviceaccount:{namespace}:'
            f'pipeline-runner" cannot {_VERBS.get(method, method.lower())} resource '
            f'"pytorchjobs" in API group "kubeflow.org" in the namespace "{namespace}"'
        )
    return _REASONS.get(code, "Error")


def _status(code: int, message: str, name: str | None = None) -> tuple[int, dict[str, Any]]:
    """A Kubernetes `Status` body, as the API server sends with an error."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if name is not None:
        body["details"] = {"name": name, "group": "kubeflow.org", "kind": "pytorchjobs"}
    return code, body


def _handler(server: PyTorchJobServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                code, answer = _status(400, "the body is not JSON")
            else:
                code, answer = server.answer(
                    self.command, self.path, body, dict(self.headers.items())
                )
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _reply

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `received()` instead."""

    return Handler
