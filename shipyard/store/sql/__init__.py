"""The SQL metadata store: SQLite or PostgreSQL through SQLAlchemy Core.

`tables` declares the schema, `migrations` versions it, `statements` holds the queries,
`connection` parses URLs and configures connections, `pool` shares one engine per database
among the stores of a process, and `store` holds `SqlStore`, the `MetadataStore`
implementation, whose artifact and lineage methods are in `artifact_queries`. Imports only
SQLAlchemy, `shipyard.store` and `shipyard.errors`; the PostgreSQL driver (psycopg 3) and
SQLAlchemy's PostgreSQL dialect are imported only for PostgreSQL URLs.
"""

from shipyard.store.sql.store import SqlStore

__all__ = ["SqlStore"]
