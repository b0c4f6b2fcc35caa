"""A throwaway PostgreSQL server for tests, started from the locally installed binaries.

Example:
    >>> with running_postgres() as url:
    ...     check_store(lambda: SqlStore(url))
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import StoreError
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["find_postgres_bindir", "running_postgres"]

INSTALL_HINT = "Install PostgreSQL's server binaries, e.g. with: apt-get install postgresql"
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_START_ATTEMPTS = 3
_TIMEOUT_S = 60


def find_postgres_bindir() -> Path | None:
    """Return the directory holding `initdb` and `pg_ctl`, newest version first, or None.

    Looks in Debian's `/usr/lib/postgresql/<version>/bin`, then on `PATH`.
    """
    candidates = sorted(
        (path for path in _DEBIAN_ROOT.glob("*/bin") if path.parent.name.isdigit()),
        key=lambda path: int(path.parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary directory; stop and delete it at exit.

    The server trusts local connections, listens on 127.0.0.1 on a free port and runs with
    `fsync=off`, so it is fast and must hold nothing worth keeping. As root (where `initdb`
    refuses to run) it runs as the `postgres` system user.

    Yields:
        The SQLAlchemy URL of the server's `postgres` database, as the `postgres` superuser.

    Raises:
        StoreError: The binaries are missing or the server cannot be started.
    """
    bindir = find_postgres_bindir()
    if bindir is None:
        raise StoreError(
            f"No PostgreSQL server binaries (initdb, pg_ctl) in {_DEBIAN_ROOT}/*/bin or on PATH.",
            hint=INSTALL_HINT,
        )
    root = Path(tempfile.mkdtemp(prefix="shipyard-postgres-"))
    data = root / "data"
    prefix = _as_postgres_user(root)
    try:
        _run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--locale=C", "--no-sync"], root)  # fmt: skip
        port = _start(prefix, bindir, data, root)
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([*prefix, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"],
                 root)  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _as_postgres_user(root: Path) -> list[str]:
    """Return the command prefix that runs the binaries as a user `initdb` accepts."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise StoreError(
            "PostgreSQL refuses to run as root and there is no 'postgres' user to run it as.",
            hint=f"Run the tests as another user, or: {INSTALL_HINT}",
        ) from exc
    os.chown(root, user.pw_uid, user.pw_gid)
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--"]
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]


def _start(prefix: list[str], bindir: Path, data: Path, root: Path) -> int:
    """Start the server on a free port (retrying if another process takes the port)."""
    log = root / "server.log"
    error: StoreError | None = None
    for _ in range(_START_ATTEMPTS):
        port = free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        command = [*prefix, str(bindir / "pg_ctl"), "start", "-w", "-D", str(data),
                   "-l", str(log), "-o", options]  # fmt: skip
        try:
            _run(command, root)
        except StoreError as exc:
            error = exc
            continue
        return port
    log_text = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
    raise StoreError(f"PostgreSQL did not start: {error}\n{log_text}".rstrip())


def _run(command: list[str], cwd: Path) -> None:
    try:
        subprocess.run(
            command, cwd=cwd, check=True, capture_output=True, text=True, timeout=_TIMEOUT_S
        )
    except subprocess.CalledProcessError as exc:
        output = re.sub(r"\s+", " ", f"{exc.stdout} {exc.stderr}").strip()
        raise StoreError(f"{' '.join(command)} failed ({exc.returncode}): {output}") from exc
    except subprocess.TimeoutExpired as exc:
        raise StoreError(f"{' '.join(command)} took longer than {_TIMEOUT_S} s.") from exc
