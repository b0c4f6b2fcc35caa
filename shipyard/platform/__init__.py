"""The platform server: a shared, secure Shipyard for a team (`shipyard server`, `shipyard worker`).

`access` says who may do what in which project; `auth` knows users, tokens and the audit log;
`jobs` queues jobs in the database and runs them on workers; `server` composes the REST API
and the web UI.
"""
