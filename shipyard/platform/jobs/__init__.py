"""Jobs of the platform server: a queue in the store's database, workers that run them.

`records` holds a job's values; `queue` submits, claims, leases, stops and retries jobs in
the database (no broker); `packages` keeps uploaded working directories and unpacks them
safely; `worker` runs claimed jobs as processes; `job_json` is the one JSON shape of a job
(the REST API and `shipyard jobs --json`); `api` is the REST API's routes; `client` talks to
it with the standard library. This package may import the store and the errors, never the
CLI.
"""
