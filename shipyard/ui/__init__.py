"""The web UI (`shipyard ui`): server-rendered pages and the JSON API over the metadata store.

Owns the Starlette app, its pages, its `/api/` routes (which return the very dicts the CLI
prints with `--json`: `runners.run_json` and `runners.queries`), their OpenAPI document and
the static assets shipped in the package. It only reads the store. May import
`shipyard.runners` and the layers below it; never `shipyard.cli` or `shipyard.serving`.
"""

from shipyard.ui.app import create_app

__all__ = ["create_app"]
