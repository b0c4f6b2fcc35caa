"""Where a project's runs and artifacts live on the server: one space per project.

The server has two roots: the **artifact root** (`--artifact-root`, a directory every
worker mounts or an object store URL such as `s3://bucket/prefix`), which holds what every
worker must reach, and the **data directory** (`--data-dir`, local to each machine; the
artifact root itself when that is a directory), which holds what stays on one host.

- a project's artifacts go under `ARTIFACT_ROOT/projects/PROJECT/artifacts`;
- uploaded packages are kept under `ARTIFACT_ROOT/packages`;
- runs go to a store of the project's own: with a SQLite server store, the file
  `DATA_DIR/projects/PROJECT/store.db`; with PostgreSQL, the schema `"shipyard_PROJECT"` of
  the server's database (the URL's `options=-csearch_path=...`), created by the worker first;
- jobs unpack into `DATA_DIR/work`, endpoints' files are under `DATA_DIR/endpoints`.

A job runs with its project's store and artifact root in its environment (`SHIPYARD_STORE`,
`SHIPYARD_ARTIFACT_ROOT`), so a project's runs never see another's.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.platform.auth.names import PROJECT_PATTERN, check_project_name

__all__ = [
    "PROJECT_PATTERN",
    "check_project_name",
    "is_url",
    "packages_location",
    "project_artifact_root",
    "project_schema",
    "project_store_url",
    "work_dir",
]


def is_url(root: str | Path) -> bool:
    """Whether an artifact root is an object store's URL (`s3://...`), not a directory."""
    return isinstance(root, str) and "://" in root and not root.startswith("file://")


def _under(root: str | Path, *parts: str) -> str:
    if is_url(root):
        return "/".join([str(root).rstrip("/"), *parts])
    return str(Path(str(root).removeprefix("file://")).joinpath(*parts))


def project_artifact_root(root: str | Path, project: str) -> str:
    """The directory or URL the project's artifacts are published under."""
    return _under(root, "projects", check_project_name(project), "artifacts")


def project_schema(project: str) -> str:
    """The PostgreSQL schema holding the project's runs (a quoted identifier: `-` is kept)."""
    return "shipyard_" + check_project_name(project)


def project_store_url(server_store: str, data_dir: Path, project: str) -> str:
    """The URL of the project's store, beside the server's store at `server_store`."""
    from shipyard.store.sql.connection import parse_url

    parsed = parse_url(server_store)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{data_dir / 'projects' / check_project_name(project) / 'store.db'}"
    options = f'-csearch_path="{project_schema(project)}"'
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def packages_location(root: str | Path) -> str:
    """The directory or URL uploaded packages are kept under."""
    return _under(root, "packages")


def work_dir(data_dir: Path, job_id: int, attempt: int) -> Path:
    """The local directory one attempt of a job runs in."""
    return data_dir / "work" / f"job-{job_id}-{attempt}"
