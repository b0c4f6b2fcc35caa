"""`shipyard audit`: the platform server's audit log, as JSON lines or CSV, on the server host."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.options import StoreOption


def audit_command(
    project: Annotated[
        str | None,
        typer.Option("--project", help="Only this project's entries.", show_default=False),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only entries at or after this ISO 8601 time, or this long ago (12h, 30d).",
            show_default=False,
        ),
    ] = None,
    audit_format: Annotated[
        str, typer.Option("--format", help="jsonl (one JSON document a line) or csv.")
    ] = "jsonl",
    store: StoreOption = None,
) -> None:
    """Print the audit log: who did what, when, where, and how it ended, oldest first."""
    import sys

    from shipyard.cli.server_host import open_accounts
    from shipyard.errors import InvalidParameterError
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.auth.documents import AUDIT_FORMATS, export_audit
    from shipyard.platform.auth.lifetimes import parse_since

    if audit_format not in AUDIT_FORMATS:
        raise InvalidParameterError(
            f"The '--format' option of shipyard audit must be jsonl or csv. "
            f"Got {audit_format!r} instead."
        )
    start = None if since is None else parse_since(since, name="--since")
    with open_accounts(store) as accounts:
        events = AuditLog(accounts.database).events(project=project, since=start)
    sys.stdout.write(export_audit(events, audit_format))  # type: ignore[arg-type]
