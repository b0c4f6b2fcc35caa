"""The launcher task of a distributed training node: create its `PyTorchJob`, wait, report.

`shipyard execute-node --pytorchjob MANIFEST --pipeline FILE --node NAME --run-id ID ...`
(what `compile --target kubeflow` writes for a node with `workers` > 1) runs `launch`: it
names the job after the node's task and the run (a retried launcher finds its own job),
appends the node's arguments to the ranks' `torchrun ... execute-node` command, creates
the job in the pod's namespace, and reads its status every `POLL_S` seconds
(`SHIPYARD_PYTORCHJOB_POLL_S`) until the operator sets the `Succeeded` or `Failed`
condition, printing each condition it reaches.
The finished job stays for `ttlSecondsAfterFinished` (its failed pods' logs with it); a
launcher stopped before the end (SIGTERM when the KFP run is cancelled) deletes the job and
its pods. The launcher records nothing: rank 0 records the node in the run.

The service account of the task needs `create`, `get` and `delete` on
`pytorchjobs.kubeflow.org` in its namespace; a 403 says so (docs/kubeflow.md, RBAC).
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shipyard.compile.kube_api import ApiUnreachable
from shipyard.compile.pytorchjob import CONTAINER, KIND
from shipyard.errors import ExecutionInterrupted, PlatformError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

    from shipyard.compile.kube_api import KubeApi

POLL_S: Final = 10.0
"""Seconds between two reads of the job's status (`SHIPYARD_PYTORCHJOB_POLL_S` changes it)."""
POLL_ENV: Final = "SHIPYARD_PYTORCHJOB_POLL_S"
RETRIES: Final = 6
"""Reads in a row that may fail (API server restarting) before the launcher gives up."""
RBAC: Final = (
    "grant the task's service account a Role with create, get and delete on "
    "pytorchjobs.kubeflow.org in this namespace (docs/kubeflow.md, 'RBAC')"
)
_FINAL: Final = ("Succeeded", "Failed")


@dataclass(frozen=True)
class JobOutcome:
    """How a PyTorchJob ended.

    Attributes:
        name: The job's name.
        succeeded: Whether the operator set `Succeeded` (else `Failed`).
        reason: The final condition's reason (`PyTorchJobFailed`...).
        message: The final condition's message (which replica failed, its exit code).
    """

    name: str
    succeeded: bool
    reason: str
    message: str


def launch(
    job: dict[str, Any],
    rank_args: list[str],
    *,
    name: str,
    api: KubeApi,
    poll_s: float = POLL_S,
    say: Callable[[str], None] = print,
) -> JobOutcome:
    """Create the PyTorchJob `job` as `name`, wait for it to finish; return how it ended.

    Args:
        job: The compiled manifest (`pytorchjob.manifest`).
        rank_args: The node's `execute-node` arguments, appended to every rank's command.
        name: The job's name (`pytorchjob.job_name`).
        api: The API server and namespace.
        poll_s: Seconds between two reads of the status.
        say: Where progress lines go (the task's log).

    Raises:
        PlatformError: The API server refused (403: the missing RBAC; 404: no Training
            Operator), or stayed unreachable.
        ExecutionInterrupted: The launcher was stopped (SIGTERM, Ctrl-C); the job is deleted.
    """
    body = complete(job, rank_args, name=name, namespace=api.namespace)
    # SIGTERM while creating too: the job may exist by the time the signal comes.
    with _stopped_by_sigterm(name):
        try:
            _create(api, body, say, poll_s)
        except ExecutionInterrupted:
            _delete_quietly(api, name, say)
            raise
        say(f"{KIND} {name} in namespace {api.namespace}: waiting for it to finish.")
        try:
            return _wait(api, name, poll_s, say)
        except BaseException:
            _delete_quietly(api, name, say)
            raise


def complete(
    job: dict[str, Any], rank_args: list[str], *, name: str, namespace: str
) -> dict[str, Any]:
    """The manifest to create: named, in `namespace`, each rank's command ending with
    `rank_args`.

    Raises:
        PlatformError: The manifest has no `pytorch` container to complete.
    """
    body = copy.deepcopy(job)
    body.setdefault("metadata", {}).update({"name": name, "namespace": namespace})
    containers = [
        container
        for spec in body.get("spec", {}).get("pytorchReplicaSpecs", {}).values()
        for container in spec["template"]["spec"]["containers"]
        if container.get("name") == CONTAINER
    ]
    if not containers:
        raise PlatformError(
            f"--pytorchjob: the manifest has no replica with a {CONTAINER!r} container; "
            f"compile the pipeline again (shipyard compile --target kubeflow)."
        )
    for container in containers:
        container["args"] = [*container.get("args", []), *rank_args]
    return body


def path(api: KubeApi, name: str | None = None) -> str:
    """The REST path of the namespace's PyTorchJobs, or of one."""
    base = f"/apis/kubeflow.org/v1/namespaces/{api.namespace}/pytorchjobs"
    return base if name is None else f"{base}/{name}"


def final_condition(job: dict[str, Any]) -> dict[str, Any] | None:
    """The job's `Succeeded` or `Failed` condition once the operator set it, else None."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in _FINAL and condition.get("status") == "True":
            return dict(condition)
    return None


def _create(api: KubeApi, body: dict[str, Any], say: Callable[[str], None], poll_s: float) -> None:
    name = body["metadata"]["name"]
    code, answer = api.request("POST", path(api), body)
    if code == 409:  # a retried launcher: its job is there
        existing = _get(api, name)
        if existing is not None and final_condition(existing) is None:
            say(f"{KIND} {name} exists and has not finished (a retried task): waiting for it.")
            return
        say(f"{KIND} {name} of an earlier attempt has finished: replacing it.")
        _delete(api, name)
        _gone(api, name, min(poll_s, 1.0))
        code, answer = api.request("POST", path(api), body)
    if code in (200, 201):
        return
    _refused(api, "create", code, answer, name)


def _wait(api: KubeApi, name: str, poll_s: float, say: Callable[[str], None]) -> JobOutcome:
    seen: set[str] = set()
    failures = 0
    while True:
        try:
            job = _get(api, name)
            failures = 0
        except ApiUnreachable as error:
            failures += 1
            if failures > RETRIES:
                raise
            say(f"{error} (attempt {failures} of {RETRIES + 1})")
            time.sleep(poll_s)
            continue
        if job is None:
            raise PlatformError(
                f"{KIND} {name} in namespace {api.namespace} was deleted before it finished "
                f"(by someone, or its TTL); run the node again."
            )
        for condition in job.get("status", {}).get("conditions") or []:
            kind = condition.get("type", "")
            if condition.get("status") == "True" and kind not in seen:
                seen.add(kind)
                say(f"{KIND} {name}: {kind} ({condition.get('message', '').strip()})")
        final = final_condition(job)
        if final is not None:
            return JobOutcome(
                name=name,
                succeeded=final["type"] == "Succeeded",
                reason=str(final.get("reason", "")),
                message=str(final.get("message", "")),
            )
        time.sleep(poll_s)


def _get(api: KubeApi, name: str) -> dict[str, Any] | None:
    code, answer = api.request("GET", path(api, name))
    if code == 404:
        return None
    if code != 200:
        _refused(api, "get", code, answer, name)
    return answer


def _delete(api: KubeApi, name: str) -> None:
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    code, answer = api.request("DELETE", path(api, name), body)
    if code not in (200, 202, 404):
        _refused(api, "delete", code, answer, name)


def _gone(api: KubeApi, name: str, poll_s: float, timeout_s: float = 120.0) -> None:
    """Wait until the deleted job is gone (its finalizers run), so its name is free."""
    deadline = time.monotonic() + timeout_s
    while _get(api, name) is not None:
        if time.monotonic() > deadline:
            raise PlatformError(
                f"{KIND} {name} in namespace {api.namespace} is still there {timeout_s:g} s "
                f"after its deletion; delete it (kubectl delete pytorchjob -n "
                f"{api.namespace} {name}) and retry."
            )
        time.sleep(poll_s)


def _delete_quietly(api: KubeApi, name: str, say: Callable[[str], None]) -> None:
    try:
        _delete(api, name)
        say(f"{KIND} {name} deleted, with its pods.")
    except PlatformError as error:
        say(f"{KIND} {name} could not be deleted ({error}); delete it with kubectl.")


def _refused(api: KubeApi, verb: str, code: int, answer: dict[str, Any], name: str) -> None:
    message = str(answer.get("message") or answer.get("reason") or "no message")
    where = f"{KIND} {name} in namespace {api.namespace}"
    if code == 403:
        raise PlatformError(f"{verb} {where}: forbidden (403: {message}); {RBAC}.")
    if code == 401:
        raise PlatformError(
            f"{verb} {where}: unauthorized (401: {message}); the pod's service account "
            f"token was refused (is automountServiceAccountToken off?)."
        )
    if code == 404 and verb == "create":
        raise PlatformError(
            f"create {where}: the API server has no {KIND} (kubeflow.org/v1) resource (404: "
            f"{message}); install the Kubeflow Training Operator, or compile with "
            f"--no-pytorchjob to train the workers inside one pod."
        )
    raise PlatformError(f"{verb} {where}: the API server answered {code}: {message}.")


@contextlib.contextmanager
def _stopped_by_sigterm(name: str) -> Iterator[None]:
    """Turn SIGTERM (the pod deleted, the KFP run cancelled) into `ExecutionInterrupted`, so
    the launcher deletes the job before it goes (main thread only: signals reach no other)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not stop the delete
        raise ExecutionInterrupted(
            f"the launcher of {KIND} {name} received signal {signum} before the job finished; "
            f"the job is deleted with its pods."
        )

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def launch_node(
    manifest_json: str,
    node_args: list[str],
    *,
    node: str,
    run_id: str,
    workers: int | None,
    api: KubeApi | None = None,
    poll_s: float | None = None,
    say: Callable[[str], None] = print,
) -> JobOutcome:
    """`execute-node --pytorchjob`: launch the node's ranks as the compiled PyTorchJob.

    Args:
        manifest_json: The compiled manifest (`--pytorchjob`'s value).
        node_args: The node's `execute-node` arguments, as this task received them.
        node: The node's name.
        run_id: The run (the KFP job's id).
        workers: The node's `workers` for this job's parameters (None: not declared).
        api: The API server (default: the pod's).
        poll_s: Seconds between two reads of the job's status (default: `poll_interval_s`).
        say: Where progress lines go.

    Raises:
        InvalidParameterError: The manifest is not a PyTorchJob, or its ranks are not the
            node's `workers` (a job parameter changed them after compiling).
    """
    import json

    from shipyard.compile.kube_api import KubeApi
    from shipyard.compile.pytorchjob import job_name
    from shipyard.errors import InvalidParameterError

    try:
        job = json.loads(manifest_json)
    except ValueError as error:
        raise InvalidParameterError(
            f"--pytorchjob: the manifest is not JSON ({error}); compile the pipeline again."
        ) from None
    if not isinstance(job, dict) or job.get("kind") != KIND:
        raise InvalidParameterError(
            f"--pytorchjob: expected a {KIND} manifest, got kind "
            f"{job.get('kind') if isinstance(job, dict) else type(job).__name__!r}; "
            f"compile the pipeline again."
        )
    try:
        ranks = world_size(job)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise InvalidParameterError(
            f"--pytorchjob: the {KIND} manifest has no valid spec.pytorchReplicaSpecs "
            f"({type(error).__name__}: {error}); compile the pipeline again."
        ) from None
    if workers is not None and workers != ranks:
        raise InvalidParameterError(
            f"node {node!r}: workers={workers} for this job, but the {KIND} was compiled "
            f"for {ranks} ranks (pods are fixed at compile time); compile again with "
            f"--param for the new number of workers."
        )
    api = api or KubeApi.in_pod()
    poll_s = poll_interval_s() if poll_s is None else poll_s
    found = launch(job, node_args, name=job_name(node, run_id), api=api, poll_s=poll_s, say=say)
    state = "succeeded" if found.succeeded else f"failed ({found.reason}: {found.message})"
    say(f"{KIND} {found.name} of node {node}, run {run_id}: {state}")
    if not found.succeeded:
        say(
            f"The ranks' logs: kubectl logs -n {api.namespace} "
            f"{found.name}-master-0 (and {found.name}-worker-N); the job stays for its "
            f"ttlSecondsAfterFinished."
        )
    return found


def poll_interval_s() -> float:
    """`SHIPYARD_PYTORCHJOB_POLL_S` if set, else `POLL_S`.

    Raises:
        InvalidParameterError: The variable is not a positive number of seconds.
    """
    from shipyard.errors import InvalidParameterError

    text = os.environ.get(POLL_ENV, "").strip()
    try:
        seconds = float(text) if text else POLL_S
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise InvalidParameterError(
            f"{POLL_ENV}={text!r}: expected the seconds between two reads of the "
            f"PyTorchJob's status, a number above 0 (default {POLL_S:g}); unset it or fix it."
        )
    return seconds


def world_size(job: dict[str, Any]) -> int:
    """The ranks of a PyTorchJob manifest: its replicas times `nprocPerNode`."""
    replicas = sum(
        int(spec.get("replicas", 1)) for spec in job["spec"]["pytorchReplicaSpecs"].values()
    )
    per_pod = str(job["spec"].get("nprocPerNode", "1"))
    return replicas * (int(per_pod) if per_pod.isdigit() else 1)
