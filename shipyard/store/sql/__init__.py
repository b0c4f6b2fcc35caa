"""The SQL metadata store: SQLite or PostgreSQL through SQLAlchemy Core.

`tables` declares the schema, `migrations` versions it and `store` holds `SqlStore`, the
`MetadataStore` implementation. Imports only SQLAlchemy, `shipyard.store` and
`shipyard.errors`; the PostgreSQL driver (psycopg 3) is needed only for PostgreSQL URLs.
"""

from shipyard.store.sql.store import SqlStore

__all__ = ["SqlStore"]
