"""The launcher task of a distributed training node against a real HTTP server speaking the
Kubernetes API (`shipyard.testing.kubernetes.PyTorchJobServer`): `shipyard execute-node
--pytorchjob` creates the job of the node's ranks, follows its conditions and exits with its
outcome; it names what the cluster refused; a cancelled task deletes its job."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from shipyard.compile.kube_api import ApiUnreachable, KubeApi
from shipyard.compile.pytorchjob import job_name
from shipyard.compile.pytorchjob_launch import RETRIES, launch, launch_node, poll_interval_s
from shipyard.errors import InvalidParameterError, PlatformError
from shipyard.testing.kubernetes import FAILED, PyTorchJobServer
from tests.cli.command import shipyard
from tests.compile.distributed import compile_distributed, launcher
from tests.environment import CHECKOUT, child_environment

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NAMESPACE = "ml"
RUN = "3f1c2a9e-0d7b-4c55-9a51-1e0f3b2d6c44"
JOB = job_name("train", RUN)
JOBS = f"/apis/kubeflow.org/v1/namespaces/{NAMESPACE}/pytorchjobs"
VALUES = {"shipyard_run_id": RUN, "source": "data/penguins.csv", "workers": "4"}


class Compiled:
    """The compiled launcher task of the penguins pipeline's train node (4 workers)."""

    def __init__(self, project: Path, job: dict[str, Any], args: list[str]) -> None:
        self.project = project
        self.job = job
        self.manifest = json.dumps(job)
        self.args = args

    def node_args(self, **values: str) -> list[str]:
        """The launcher's arguments as KFP resolves them for a job with `values`."""
        found = {**VALUES, **values}
        resolved = []
        for arg in self.args:
            text = arg
            for key, value in found.items():
                text = text.replace(f"{{{{$.inputs.parameters['{key}']}}}}", value)
            resolved.append(text)
        return resolved

    def command(self, **values: str) -> list[str]:
        """`execute-node --pytorchjob MANIFEST ...` as the compiled task runs it."""
        return ["execute-node", "--pytorchjob", self.manifest, *self.node_args(**values)]


@pytest.fixture
def compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Compiled:
    spec, _ = compile_distributed(tmp_path, monkeypatch)
    job, args = launcher(spec)
    return Compiled(tmp_path / "penguins", job, args)


@pytest.fixture
def server() -> Iterator[PyTorchJobServer]:
    with PyTorchJobServer(namespace=NAMESPACE) as running:
        yield running


def environment(server: PyTorchJobServer) -> dict[str, str]:
    """What points the launcher outside a pod at `server`, polling fast."""
    return {
        "SHIPYARD_KUBE_API": server.url,
        "SHIPYARD_KUBE_NAMESPACE": NAMESPACE,
        "SHIPYARD_PYTORCHJOB_POLL_S": "0.05",
    }


def said(text: str) -> str:
    """Standard error as one line: Rich wraps a long error at the terminal's width."""
    return " ".join(text.split())


def api(server: PyTorchJobServer, **options: Any) -> KubeApi:
    return KubeApi(server=server.url, namespace=NAMESPACE, **options)


def test_a_succeeded_job_ends_the_task_with_exit_0(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    done = shipyard(compiled.project, *compiled.command(), env=environment(server))
    assert done.returncode == 0, done.stderr
    (create,) = server.received("POST")
    assert create.path == JOBS and create.code == 201
    body = create.body
    assert body is not None
    assert body["metadata"]["name"] == JOB and body["metadata"]["namespace"] == NAMESPACE
    assert body["metadata"]["labels"] == compiled.job["metadata"]["labels"]
    assert body["spec"] == {
        **compiled.job["spec"],
        "pytorchReplicaSpecs": body["spec"]["pytorchReplicaSpecs"],
    }
    replicas = body["spec"]["pytorchReplicaSpecs"]
    assert replicas["Master"]["replicas"] == 1 and replicas["Worker"]["replicas"] == 3
    for kind, replica in replicas.items():
        (rank,) = replica["template"]["spec"]["containers"]
        template = compiled.job["spec"]["pytorchReplicaSpecs"][kind]["template"]
        (compiled_rank,) = template["spec"]["containers"]
        # The ranks run torchrun ... execute-node with the launcher's own node arguments.
        assert rank["args"] == [*compiled_rank["args"], *compiled.node_args()]
        assert rank["args"][-8:] == [
            *("--run-id", RUN, "--param", "source=data/penguins.csv"),
            *("--param", "workers=4", "--artifact-root", "s3://bucket/shipyard"),
        ]
    # It read the job until the operator's Succeeded condition, and kept it (TTL, logs).
    assert [each.method for each in server.received()] == ["POST", "GET", "GET", "GET"]
    assert server.job(JOB) is not None
    assert f"PyTorchJob {JOB}: Running" in said(done.stderr)
    assert f"PyTorchJob {JOB} of node train, run {RUN}: succeeded" in said(done.stderr)


def test_a_failed_job_fails_the_task_and_says_where_the_logs_are(
    compiled: Compiled, tmp_path: Path
) -> None:
    message = f"PyTorchJob {JOB} is failed because 1 Worker replica(s) failed."
    with PyTorchJobServer(namespace=NAMESPACE, conditions=FAILED, message=message) as server:
        done = shipyard(compiled.project, *compiled.command(), env=environment(server))
    assert done.returncode == 1
    assert f"PyTorchJob {JOB} of node train, run {RUN}: failed (PyTorchJobFailed: " in said(
        done.stderr
    )
    assert "1 Worker replica(s) failed" in said(done.stderr)
    assert f"kubectl logs -n {NAMESPACE} {JOB}-master-0" in said(done.stderr)
    assert "Traceback" not in said(done.stderr)
    assert not server.received("DELETE")  # kept for its logs until its TTL


def test_a_bearer_token_goes_with_every_request(
    compiled: Compiled, server: PyTorchJobServer, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    server.token = "s3cret"
    lines: list[str] = []
    found = launch_node(
        compiled.manifest,
        compiled.node_args(),
        node="train",
        run_id=RUN,
        workers=4,
        api=api(server, token_file=token),
        poll_s=0.01,
        say=lines.append,
    )
    assert found.succeeded and found.name == JOB
    assert {each.headers["Authorization"] for each in server.received()} == {"Bearer s3cret"}
    token.write_text("wrong")  # read again at each request, as the kubelet rotates it
    with pytest.raises(PlatformError, match=r"create PyTorchJob .* unauthorized \(401"):
        launch(compiled.job, [], name="other", api=api(server, token_file=token), poll_s=0.01)


def test_a_forbidden_create_names_the_missing_rbac(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.fail("POST", 403)
    done = shipyard(compiled.project, *compiled.command(), env=environment(server))
    assert done.returncode == 1
    assert f"create PyTorchJob {JOB} in namespace {NAMESPACE}: forbidden (403: " in said(
        done.stderr
    )
    assert "cannot create resource" in said(done.stderr)
    assert "create, get and delete on pytorchjobs.kubeflow.org" in said(done.stderr)
    assert "docs/kubeflow.md, 'RBAC'" in said(done.stderr)
    assert "Traceback" not in said(done.stderr)


def test_a_cluster_without_the_training_operator_is_named(compiled: Compiled) -> None:
    with PyTorchJobServer(namespace=NAMESPACE, installed=False) as server:
        with pytest.raises(PlatformError) as refused:
            launch(compiled.job, [], name=JOB, api=api(server), poll_s=0.01)
    assert "has no PyTorchJob (kubeflow.org/v1) resource (404" in str(refused.value)
    assert "install the Kubeflow Training Operator" in str(refused.value)
    assert "--no-pytorchjob" in str(refused.value)


def test_a_retried_launcher_waits_for_the_job_still_running(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.add(JOB, ("Running", "Running", "Succeeded"))
    lines: list[str] = []
    found = launch(compiled.job, [], name=JOB, api=api(server), poll_s=0.01, say=lines.append)
    assert found.succeeded
    assert [(r.method, r.code) for r in server.received()][:2] == [("POST", 409), ("GET", 200)]
    assert not server.received("DELETE") and len(server.received("POST")) == 1
    assert any("exists and has not finished" in line for line in lines)


def test_a_retried_launcher_replaces_the_finished_job_of_an_earlier_attempt(
    compiled: Compiled,
) -> None:
    with PyTorchJobServer(namespace=NAMESPACE, reads_after_deletion=2) as server:
        server.add(JOB, ("Failed",))
        lines: list[str] = []
        found = launch(
            compiled.job,
            ["--run-id", RUN],
            name=JOB,
            api=api(server),
            poll_s=0.01,
            say=lines.append,
        )
        received = [(r.method, r.code) for r in server.received()]
        recreated = server.job(JOB)
    assert found.succeeded
    # Create refused, read (finished), delete, read until gone (finalizers), create again.
    assert received[:7] == [
        ("POST", 409),
        ("GET", 200),
        ("DELETE", 200),
        ("GET", 200),
        ("GET", 200),
        ("GET", 404),
        ("POST", 201),
    ]
    assert recreated is not None
    master = recreated["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert master["containers"][0]["args"][-2:] == ["--run-id", RUN]
    assert any("of an earlier attempt has finished: replacing it" in line for line in lines)


def test_reads_that_fail_a_few_times_are_retried(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.fail("GET", 503, times=3)
    lines: list[str] = []
    found = launch(compiled.job, [], name=JOB, api=api(server), poll_s=0.01, say=lines.append)
    assert found.succeeded
    assert [r.code for r in server.received("GET")] == [503, 503, 503, 200, 200, 200]
    assert sum(f"attempt {n} of {RETRIES + 1}" in "\n".join(lines) for n in (1, 2, 3)) == 3
    assert "answered 503" in lines[1]


def test_an_api_server_down_for_good_ends_the_launcher_and_deletes_the_job(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.fail("GET", 500, times=RETRIES + 1)
    with pytest.raises(ApiUnreachable, match=r"GET .*/pytorchjobs/.*answered 500"):
        launch(compiled.job, [], name=JOB, api=api(server), poll_s=0.01, say=lambda _: None)
    assert len(server.received("GET")) == RETRIES + 1
    (delete,) = server.received("DELETE")
    assert delete.path == f"{JOBS}/{JOB}" and server.job(JOB) is None


def test_sigterm_deletes_the_job_and_ends_the_launcher(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.conditions = ("Created", "Running")  # it never finishes
    env = {**child_environment(), **environment(server), "COLUMNS": "200"}
    with subprocess.Popen(
        [sys.executable, "-m", "shipyard", *compiled.command()],
        cwd=compiled.project,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            server.wait_for("GET", count=2, timeout_s=60)
            stopped = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
            took_s = time.monotonic() - stopped
        finally:
            if process.poll() is None:
                process.kill()
        assert process.stderr is not None
        errors = process.stderr.read()
    assert code != 0, errors
    assert took_s < 5, took_s
    (delete,) = server.received("DELETE")
    assert delete.path == f"{JOBS}/{JOB}" and delete.body is not None
    assert delete.body["propagationPolicy"] == "Background"  # its pods go with it
    assert server.job(JOB) is None
    assert f"received signal {signal.SIGTERM.value}" in said(errors)
    assert f"PyTorchJob {JOB} deleted, with its pods." in said(errors)


def test_workers_other_than_the_compiled_ranks_are_refused_before_any_request(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    done = shipyard(compiled.project, *compiled.command(workers="2"), env=environment(server))
    assert done.returncode == 1
    assert (
        "node 'train': workers=2 for this job, but the PyTorchJob was compiled for 4 ranks"
        in said(done.stderr)
    )
    assert "compile again" in said(done.stderr)
    assert not server.received()


def test_a_manifest_that_is_no_pytorchjob_is_named(server: PyTorchJobServer) -> None:
    for manifest, expected in [
        ("{not json", "the manifest is not JSON"),
        ('{"kind": "Job"}', "expected a PyTorchJob manifest, got kind 'Job'"),
        ('{"kind": "PyTorchJob", "spec": {}}', "no valid spec.pytorchReplicaSpecs"),
    ]:
        with pytest.raises(InvalidParameterError, match=expected):
            launch_node(manifest, [], node="train", run_id=RUN, workers=4, api=api(server))
    assert not server.received()


def test_the_documented_rbac_grants_what_the_launcher_does(
    compiled: Compiled, server: PyTorchJobServer
) -> None:
    server.add(JOB, ("Succeeded",))  # a retried launcher: every verb it may use
    launch(compiled.job, [], name=JOB, api=api(server), poll_s=0.01, say=lambda _: None)
    verbs = {"POST": "create", "GET": "get", "DELETE": "delete"}
    used = {verbs[each.method] for each in server.received()}
    text = (CHECKOUT / "docs" / "kubeflow.md").read_text()
    block = text.split("## RBAC", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    role, binding = yaml.safe_load_all(block)
    (rule,) = role["rules"]
    assert rule == {
        "apiGroups": ["kubeflow.org"],
        "resources": ["pytorchjobs"],
        "verbs": rule["verbs"],
    }
    assert used == set(rule["verbs"]) == {"create", "get", "delete"}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]


def test_the_poll_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_PYTORCHJOB_POLL_S", raising=False)
    assert poll_interval_s() == 10.0
    monkeypatch.setenv("SHIPYARD_PYTORCHJOB_POLL_S", "0.5")
    assert poll_interval_s() == 0.5
    for wrong in ("fast", "0", "-1", "nan"):
        monkeypatch.setenv("SHIPYARD_PYTORCHJOB_POLL_S", wrong)
        with pytest.raises(InvalidParameterError, match=rf"SHIPYARD_PYTORCHJOB_POLL_S='{wrong}'"):
            poll_interval_s()
