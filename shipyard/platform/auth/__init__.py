"""Who is calling the platform server, and what they did: users, tokens, projects, the audit log.

Modules, from the database up:

    records.py     User, ApiToken, Project, Grant, AuditEvent, Actor: the values
    names.py       which names users and projects may have
    passwords.py   argon2id password hashes
    bearer.py      API tokens: `shp_...`, stored as SHA-256 hashes; the `Authorization` header
    users.py, tokens.py, projects.py
                   the queries of `Accounts` (accounts.py), each change audited in its
                   transaction
    audit.py       the append-only audit log
    denials.py     401, 403 and 404 answers (problem+json) and their audit entries
    middleware.py  `AuthMiddleware` (pure ASGI) and `principal_of(request)`
    documents.py   the JSON of each record, and the audit log's jsonl and csv exports
    lifetimes.py   `--expires 30d`, `--since 12h`
    endpoints.py   handlers as endpoints: JSON body, thread pool, errors as problems
    throttle.py    failed logins counted per user and per address
    login.py       POST /api/login
    routes.py      `auth_routes`: tokens, users, projects, members, audit
    oidc.py        `oidc_routes`: OIDC login, authorization code flow with PKCE

May import `shipyard.ui.problems` (the one owner of problem documents), `shipyard.serving`'s
request ids and `shipyard.store.sql` (its tables and shared engines); Starlette, argon2 and
PyJWT are imported by the modules that need them, never by `shipyard --help`.
"""
