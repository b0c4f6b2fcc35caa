"""The store's tables, in the model of ML Metadata, as SQLAlchemy Core objects.

- `contexts` groups things: a `pipeline` context per pipeline name and a `run` context per
  run, whose `parent_id` is its pipeline's context. Runs are read back as `RunRecord`s.
- `executions` holds one row per execution of a node, with its run context in `run_id`.
- `artifacts` holds one row per published artifact; deleted artifacts keep their row.
- `events` links an artifact to an execution as an `input` or `output` under a port name.
- `associations` (context - execution) and `attributions` (context - artifact) say which
  context an execution ran in and which run context produced an artifact.
- `firings` holds one row per firing of a trigger (`shipyard schedule`), unique by trigger
  and idempotency key, with the run context it started in `run_id`; `trigger_leases` one row
  per trigger: the scheduler evaluating it, its schedule's cursor and what it has seen.
- `run_metrics` holds each finished run's metrics (name, value), written when the run ends,
  indexed by (name, value) so that listings sort thousands of runs by a metric at once.
- `jobs` holds the platform server's job queue (`shipyard.platform.jobs`): one row per job,
  unique by project and submission id, with its state, message, attempts and the lease of
  the worker running it; `job_logs` the chunks of output each attempt wrote, in order.
- The platform server's (`shipyard.platform.auth`): `users` (argon2 password hashes, or an
  OIDC issuer and subject), `api_tokens` (SHA-256 hashes of personal and login tokens, never
  the tokens), `projects`, `grants` (one role per user per project) and `audit_events`, which
  a trigger keeps append-only (UPDATE and DELETE are refused on SQLite and PostgreSQL).

This module describes the current schema; `migrations.py` brings a database to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = [
    "api_tokens",
    "artifacts",
    "associations",
    "attributions",
    "audit_events",
    "contexts",
    "endpoints",
    "events",
    "executions",
    "firings",
    "grants",
    "job_logs",
    "job_workers",
    "jobs",
    "login_failures",
    "metadata",
    "model_versions",
    "oidc_logins",
    "projects",
    "registered_models",
    "run_metrics",
    "trigger_leases",
    "users",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored in UTC and always read back as a timezone-aware UTC value.

    PostgreSQL keeps it as `timestamptz`; SQLite, which has no time zones, as naive UTC text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonDocument(TypeDecorator[Any]):
    """A JSON value: `jsonb` on PostgreSQL, JSON text on SQLite.

    The PostgreSQL type is chosen when a statement is compiled for PostgreSQL, so that
    importing this module (and opening a SQLite store) never imports SQLAlchemy's PostgreSQL
    dialect; `JSON().with_variant(JSONB(), "postgresql")` would import it at once.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Return `JSONB` on PostgreSQL and the generic `JSON` type elsewhere."""
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


def _one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=f"{column}_valid")


CONTEXT_TYPES = ("pipeline", "run")
RUN_STATES = ("running", "complete", "failed", "interrupted", "abandoned")
EXECUTION_STATES = (
    "running", "complete", "cached", "failed", "skipped", "interrupted", "abandoned"
)  # fmt: skip
ARTIFACT_STATES = ("live", "deleted")
EVENT_KINDS = ("input", "output")
FIRING_STATES = (
    "requested", "pending", "running", "complete", "failed", "interrupted", "skipped"
)  # fmt: skip
FIRING_KINDS = ("schedule", "new_data", "monitor", "manual")
JOB_STATES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED")
JOB_KINDS = ("pipeline", "train", "command")
ROLES = ("viewer", "runner", "editor", "admin")  # shipyard.platform.access.Role
TOKEN_KINDS = ("personal", "login")
AUDIT_OUTCOMES = ("ok", "denied", "failed")
ENDPOINT_STATES = ("starting", "running", "failed", "stopped")  # platform.models.endpoint_records

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

contexts = Table(
    "contexts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("parent_id", Integer, ForeignKey("contexts.id"), nullable=True),
    Column("state", String(16), nullable=True),
    Column("properties", JsonDocument, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    UniqueConstraint("type", "name"),
    _one_of("type", CONTEXT_TYPES),
    _one_of("state", RUN_STATES, nullable=True),
    Index(None, "parent_id"),
    Index(None, "type", "started_at"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("contexts.id"), nullable=False),
    Column("node", String(255), nullable=False),
    Column("component", String(255), nullable=False),
    Column("parameters", JsonDocument, nullable=False),
    Column("cache_key", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Column("cached_from", Integer, ForeignKey("executions.id"), nullable=True),
    _one_of("state", EXECUTION_STATES),
    Index(None, "run_id"),
    Index(None, "cache_key"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type_name", String(255), nullable=False),
    Column("uri", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("fingerprint", String(255), nullable=False),
    Column("properties", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    _one_of("state", ARTIFACT_STATES),
    Index(None, "state"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("execution_id", Integer, ForeignKey("executions.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("name", String(255), nullable=False),
    _one_of("kind", EVENT_KINDS),
    Index(None, "execution_id", "kind", "name", unique=True),
    Index(None, "artifact_id"),
)

associations = Table(
    "associations",
    metadata,
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("execution_id", Integer, ForeignKey("executions.id"), primary_key=True),
)

attributions = Table(
    "attributions",
    metadata,
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), primary_key=True),
)

firings = Table(
    "firings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("trigger", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key", String(255), nullable=False),
    Column("pipeline", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("fired_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("run_id", Integer, ForeignKey("contexts.id"), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("properties", JsonDocument, nullable=False),
    Column("error", Text, nullable=True),
    UniqueConstraint("trigger", "key"),
    _one_of("state", FIRING_STATES),
    _one_of("kind", FIRING_KINDS),
    Index(None, "state"),
    Index(None, "run_id"),
)

trigger_leases = Table(
    "trigger_leases",
    metadata,
    Column("trigger", String(255), primary_key=True),
    Column("holder", String(255), nullable=True),
    Column("properties", JsonDocument, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("cursor", UtcDateTime, nullable=True),
    Column("seen", JsonDocument, nullable=False),
)

run_metrics = Table(
    "run_metrics",
    metadata,
    Column("run_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("value", Float, nullable=False),
    Index(None, "name", "value"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("superuser", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("email", String(255), nullable=True),
    Column("oidc_issuer", String(255), nullable=True),
    Column("oidc_subject", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("name"),
    UniqueConstraint("oidc_issuer", "oidc_subject"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    UniqueConstraint("token_hash"),
    _one_of("kind", TOKEN_KINDS),
    Index(None, "user_id"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(255), nullable=True),
    UniqueConstraint("name"),
)

grants = Table(
    "grants",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("granted_by", String(255), nullable=True),
    _one_of("role", ROLES),
    Index(None, "user_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(255), nullable=True),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("project", String(255), nullable=True),
    Column("target", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("client", String(255), nullable=True),
    Column("detail", JsonDocument, nullable=False),
    _one_of("outcome", AUDIT_OUTCOMES),
    Index(None, "at"),
    Index(None, "project", "at"),
)

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("project_id", "name"),
)

# A version names a PushedModel artifact of the project's own store (which may be another
# database than the server's): no foreign key to `artifacts`.
model_versions = Table(
    "model_versions",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("artifact_id", Integer, nullable=False),
    Column("uri", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("run_id", String(255), nullable=True),
    Column("blessed", Boolean, nullable=True),
    Column("infra_blessed", Boolean, nullable=True),
    Column("registered_by", String(255), nullable=True),
    Column("registered_at", UtcDateTime, nullable=False),
    UniqueConstraint("model_id", "artifact_id"),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("model_id", Integer, ForeignKey("registered_models.id"), nullable=False),
    Column("stable", Integer, nullable=True),
    Column("canary", Integer, nullable=True),
    Column("canary_percent", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("port", Integer, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("restarts", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("project_id", "name"),
    _one_of("state", ENDPOINT_STATES),
)

# The audit log is append-only in the database too: whatever connects, nothing rewrites it.
_APPEND_ONLY = "audit events are append-only"
for _dialect, _statements in {
    "sqlite": [
        f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
        for verb in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON "
        "audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()",
    ],
}.items():
    for _statement in _statements:
        _ddl = DDL(_statement).execute_if(dialect=_dialect)  # type: ignore[no-untyped-call]
        event.listen(audit_events, "after_create", _ddl)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project", String(255), nullable=False),
    Column("submission_id", String(255), nullable=False),
    Column("submitter", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("entrypoint", Text, nullable=False),
    Column("metadata", JsonDocument, nullable=False),
    Column("package", String(64), nullable=True),
    Column("resources", JsonDocument, nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("stop_requested", Boolean, nullable=False, server_default=false()),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    UniqueConstraint("project", "submission_id"),
    _one_of("state", JOB_STATES),
    _one_of("kind", JOB_KINDS),
    Index(None, "state", "id"),
    Index(None, "project", "id"),
)

job_logs = Table(
    "job_logs",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("attempt", Integer, nullable=False),
    Column("text", Text, nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False),  # SHA-256 of user:NAME or client:ADDRESS
    Column("at", UtcDateTime, nullable=False),
    Index(None, "key", "at"),
    Index(None, "at"),
)

oidc_logins = Table(
    "oidc_logins",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("verifier", String(128), nullable=False),
    Column("redirect_url", Text, nullable=False),
    Column("next_path", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Index(None, "started_at"),
)

job_workers = Table(  # what each live `shipyard worker` has, for placing jobs and messages
    "job_workers",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("num_cpus", Float, nullable=False),
    Column("num_gpus", Float, nullable=False),
    Column("memory", Float, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)
