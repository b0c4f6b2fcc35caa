"""Models and endpoints of the platform server: a project's registered models, and the
`shipyard serve` processes that serve them.

- `registry`: registered models and their versions, each a pushed model of the project's
  store with its blessings read through lineage;
- `pushes`: the pushed model a registration names, and its lineage;
- `endpoints`: an endpoint's row (what it should serve), `deployment`: its model repository
  and model config on disk, `serve_process`: its `shipyard serve` process, `supervisor`:
  the class the server owns that keeps them running, `status`: what an endpoint serves now;
- `documents`: the JSON of each (the API's and the CLI's `--json`), `routes`: the REST API.

May import `shipyard.promotion`, `shipyard.serving`, `shipyard.store` and below; never the CLI.
"""
