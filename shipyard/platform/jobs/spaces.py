"""Where a project's runs and artifacts live on the server: one space per project.

A job runs with its project's store and artifact root in its environment (`SHIPYARD_STORE`,
`SHIPYARD_ARTIFACT_ROOT`), so a project's runs never see another's:

- artifacts go under `ROOT/projects/PROJECT/artifacts` of the server's `--artifact-root`;
- runs go to a store of the project's own: with a SQLite server store, the file
  `ROOT/projects/PROJECT/store.db`; with PostgreSQL, the schema `"shipyard_PROJECT"` of the
  server's database (the URL's `options=-csearch_path=...`), created by the worker first.

Uploaded packages are kept under `ROOT/packages`, and jobs unpack into `ROOT/work`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "PROJECT_PATTERN",
    "check_project_name",
    "packages_dir",
    "project_artifact_root",
    "project_schema",
    "project_store_url",
    "work_dir",
]

PROJECT_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_PROJECT = re.compile(PROJECT_PATTERN)


def check_project_name(project: str) -> str:
    """Return `project` if it can name a directory and a schema.

    Raises:
        InvalidParameterError: It cannot.
    """
    if not _PROJECT.match(project):
        raise InvalidParameterError(
            f"The project name {project!r} is not allowed: use 1 to 63 lowercase letters, "
            "digits, '-' and '_', starting with a letter or digit."
        )
    return project


def project_artifact_root(root: Path, project: str) -> Path:
    """The directory the project's artifacts are published under."""
    return root / "projects" / check_project_name(project) / "artifacts"


def project_schema(project: str) -> str:
    """The PostgreSQL schema holding the project's runs (a quoted identifier: `-` is kept)."""
    return "shipyard_" + check_project_name(project)


def project_store_url(server_store: str, root: Path, project: str) -> str:
    """The URL of the project's store, beside the server's store at `server_store`."""
    from shipyard.store.sql.connection import parse_url

    parsed = parse_url(server_store)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{root / 'projects' / check_project_name(project) / 'store.db'}"
    options = f'-csearch_path="{project_schema(project)}"'
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def packages_dir(root: Path) -> Path:
    """The directory uploaded packages are kept in."""
    return root / "packages"


def work_dir(root: Path, job_id: int, attempt: int) -> Path:
    """The directory one attempt of a job runs in."""
    return root / "work" / f"job-{job_id}-{attempt}"
