"""What the platform server adds to a project's web UI, and what its shared login state costs.

1. A project's UI read through the platform server (`/projects/demo/...`, a bearer token:
   `AuthMiddleware`'s lookup of the token and its grants, the project's dispatch) beside the
   peer, the same UI app served alone as `shipyard ui` serves it (`/...`, no sign-in), over
   127.0.0.1 by uvicorn in this process, one client on a keep-alive connection sending one
   request at a time: CPU time of the process (server and client) per request, for the runs
   JSON (`api/runs`) and the runs page (`runs`), on one store of `--runs` runs.
2. The login state several servers share in the database: CPU time per failed login of the
   throttle's check and count (`retry_after_s` + `failed`) and per OIDC login of its state
   (`remember` + `take`), on SQLite (and PostgreSQL with `--postgres`), beside the argon2id
   password check every login makes anyway (argon2-cffi's defaults, as the server hashes).

Medians over `--repeats` rounds.

    python benchmarks/platform_pages.py [--repeats 5] [--requests 500] [--runs 20] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


import shipyard  # noqa: E402
from shipyard import Out, Pipeline, component  # noqa: E402
from shipyard.artifacts import Metrics  # noqa: E402
from shipyard.platform.access import Role  # noqa: E402
from shipyard.platform.auth.layer import auth_layer  # noqa: E402
from shipyard.platform.auth.oidc_logins import OidcLogins, PendingLogin  # noqa: E402
from shipyard.platform.auth.records import Actor  # noqa: E402
from shipyard.platform.auth.throttle import LoginThrottle  # noqa: E402
from shipyard.platform.database import Database  # noqa: E402
from shipyard.platform.jobs.api import JobService  # noqa: E402
from shipyard.platform.jobs.packages import PackageStore  # noqa: E402
from shipyard.platform.jobs.queue import JobQueue  # noqa: E402
from shipyard.platform.project_uis import ProjectUIs  # noqa: E402
from shipyard.platform.server import create_server_app  # noqa: E402
from shipyard.runners import Project  # noqa: E402
from shipyard.ui import create_app  # noqa: E402
from shipyard.ui.read_only import open_read_only  # noqa: E402
from tests.ui.server import serving  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from starlette.types import ASGIApp

HOST = Actor("host:bench")


@component
def measure(out: Out[Metrics], *, value: float = 0.5) -> None:
    """Save one metric."""
    out.save({"accuracy": value})


@contextlib.contextmanager
def _serving(app: ASGIApp) -> Iterator[int]:
    """Serve `app` on a thread (as the UI's tests do); yield its port."""
    with serving(app) as url:  # type: ignore[arg-type]
        yield int(url.rsplit(":", 1)[1])


def _cpu_per_request_ms(port: int, path: str, headers: dict[str, str], requests: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(20):  # warm up: the store opened, the connection kept alive
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200, (path, answer.status)
        started = time.process_time()
        for _ in range(requests):
            connection.request("GET", path, headers=headers)
            connection.getresponse().read()
        return (time.process_time() - started) / requests * 1000
    finally:
        connection.close()


def ui_overhead(root: Path, *, runs: int, requests: int, repeats: int) -> dict[str, Any]:
    """Figure 1: CPU ms per request through the server and from the UI served alone."""
    store = f"sqlite:///{root / 'projects' / 'demo' / 'store.db'}"
    artifacts = str(root / "projects" / "demo" / "artifacts")
    for i in range(runs):
        shipyard.run(Pipeline("tiny", nodes=[measure(value=i / runs)]), store=store,
                     artifact_root=artifacts, progress=False)  # fmt: skip
    queue = JobQueue(f"sqlite:///{root / 'store.db'}")
    auth = auth_layer(queue.database)
    auth.accounts.add_project("demo", actor=HOST)
    auth.accounts.add_user("ana", actor=HOST)
    auth.accounts.grant("ana", "demo", Role.VIEWER, actor=HOST)
    token = {"Authorization": f"Bearer {auth.accounts.create_token('ana', actor=HOST).secret}"}
    uis = ProjectUIs(
        lambda name: Project.open(store=store, artifact_root=artifacts),
        auth.accounts,
        auth.audit,
        models_dir_of=lambda name: root / "models",
    )
    service = JobService(queue, PackageStore(root / "packages", max_bytes=10**6), auth.accounts,
                         auth.audit)  # fmt: skip
    alone = open_read_only(store, artifacts)
    figures: dict[str, list[float]] = {}
    try:
        server_app = create_server_app(service, auth, projects=uis)
        with _serving(server_app) as server, _serving(create_app(alone)) as peer:
            for _ in range(repeats):
                for page in ("api/runs", "runs"):
                    through = _cpu_per_request_ms(server, f"/projects/demo/{page}", token, requests)
                    served_alone = _cpu_per_request_ms(peer, f"/{page}", {}, requests)
                    figures.setdefault(f"server {page}", []).append(through)
                    figures.setdefault(f"alone {page}", []).append(served_alone)
    finally:
        alone.close()
        uis.close()
        queue.close()
    return {name: statistics.median(values) for name, values in figures.items()}


def _cpu_us(operation: Callable[[int], None], count: int) -> float:
    started = time.process_time()
    for i in range(count):
        operation(i)
    return (time.process_time() - started) / count * 1e6


def login_state(url: str, *, repeats: int, count: int = 300) -> dict[str, float]:
    """Figure 2: CPU µs per failed login's throttle work and per OIDC login's state."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    stored = hasher.hash("correct horse battery")
    throttle_us, oidc_us, argon_us = [], [], []
    with Database(url) as database:
        throttle, logins = LoginThrottle(database), OidcLogins(database)
        pending = PendingLogin("n" * 43, "v" * 43, "https://server/api/oidc/callback", "/")

        def fail(i: int) -> None:
            keys = (f"user:u{i % 50}", f"client:10.0.{i % 7}.1")
            throttle.retry_after_s(*keys)
            throttle.failed(*keys)

        def oidc_round(i: int) -> None:
            state = f"s-{i}-{time.monotonic_ns()}"
            logins.remember(state, pending)
            assert logins.take(state) is not None

        def argon(i: int) -> None:
            hasher.verify(stored, "correct horse battery")

        for _ in range(repeats):
            throttle_us.append(_cpu_us(fail, count))
            oidc_us.append(_cpu_us(oidc_round, count))
            argon_us.append(_cpu_us(argon, 5))
    return {
        "throttle check + count per failed login": statistics.median(throttle_us),
        "OIDC state remember + take per login": statistics.median(oidc_us),
        "argon2id check of one password (every login)": statistics.median(argon_us),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="also on a local PostgreSQL")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        pages = ui_overhead(root, runs=options.runs, requests=options.requests,
                            repeats=options.repeats)  # fmt: skip
        print(f"1. CPU ms per request (process: server and client), {options.runs} runs, "
              f"median of {options.repeats} x {options.requests}")  # fmt: skip
        print(f"   {'':10} {'server /projects/demo/':>24} {'alone (shipyard ui) /':>24} ratio")
        for page in ("api/runs", "runs"):
            through, alone = pages[f"server {page}"], pages[f"alone {page}"]
            print(f"   {page:10} {through:24.3f} {alone:24.3f} {through / alone:5.2f}")
        databases = {"SQLite": f"sqlite:///{root / 'state.db'}"}
        with contextlib.ExitStack() as stack:
            if options.postgres:
                from shipyard.testing.postgres import running_postgres

                databases["PostgreSQL"] = stack.enter_context(running_postgres())
            for name, url in databases.items():
                figures = login_state(url, repeats=options.repeats)
                print(f"2. Login state in the database ({name}), CPU µs, median of "
                      f"{options.repeats}")  # fmt: skip
                for label, value in figures.items():
                    print(f"   {label:48} {value:10.0f}")


if __name__ == "__main__":
    main()
