"""Fixtures for the whole suite: fresh metadata stores on SQLite and PostgreSQL, and a
workspace (a working directory with its own store) that runs pipelines without a display."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import shipyard
from shipyard.dsl import Pipeline
from shipyard.runners import Project, Run
from shipyard.testing.postgres import INSTALL_HINT, find_postgres_bindir, running_postgres
from shipyard.testing.ray import LocalRayCluster, running_ray_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session", autouse=True)
def _no_store_above_the_tests(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Store discovery stops at the tests' temporary directories (and the system's): a stray
    `/tmp/.shipyard`, made by anyone, is never taken for a test's store. Child processes
    inherit it."""
    ceilings = (str(tmp_path_factory.getbasetemp()), tempfile.gettempdir())
    os.environ["SHIPYARD_CEILING_DIRECTORIES"] = os.pathsep.join(ceilings)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL server started once for the session.

    Skips when PostgreSQL is not installed, unless the `CI` environment variable is set:
    CI must run the PostgreSQL tests, so there it is an error.
    """
    if find_postgres_bindir() is None:
        message = f"PostgreSQL server binaries not found. {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so PostgreSQL tests may not be skipped)")
        pytest.skip(message)
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[LocalRayCluster]:
    """A real local Ray cluster (`ray start --head` on 127.0.0.1, 2 CPUs, a 128 MiB object
    store), started once for the session and ended after it; `.address` is what
    `ray.init(address=...)` takes.

    Skips when Ray is not installed, unless the `CI` environment variable is set: CI
    installs the "ray" extra (with "dev") and must run the Ray tests.
    """
    from shipyard.errors import PluginNotInstalled
    from shipyard.extras import require_extra

    try:
        require_extra("ray", needed_by="the Ray tests")
    except PluginNotInstalled as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set, so the Ray tests may not be skipped)")
        pytest.skip(str(exc))
    with running_ray_cluster(num_cpus=2) as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server: str = request.getfixturevalue("postgres_url")
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            fast_copy = conn.dialect.server_version_info >= (15,)
            strategy = " STRATEGY = FILE_COPY" if fast_copy else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{strategy}'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class Workspace:
    """A project directory with its own store; runs pipelines without a display."""

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root
        self.store_url = store_url

    def run(self, pipeline: Pipeline, **options: Any) -> Run:
        options.setdefault("progress", False)
        return shipyard.run(pipeline, store=self.store_url, **options)

    def project(self) -> Project:
        return Project.open(store=self.store_url)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    return Workspace(tmp_path, f"sqlite:///{tmp_path / '.shipyard' / 'store.db'}")


_EXIT_STATUS: list[int] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process without the interpreter's teardown, as `shipyard` ends its own
    (`shipyard.cli.process_exit`), once every report is written: with PyTorch, ONNX Runtime,
    Polars, DuckDB and a Ray client loaded in one process, a native library's destructor
    crashed the finalization of a run whose 2,155 tests had all passed (a segmentation
    fault, exit status 139). `SHIPYARD_NORMAL_EXIT=1` keeps the normal exit."""
    if _EXIT_STATUS and os.environ.get("SHIPYARD_NORMAL_EXIT") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
