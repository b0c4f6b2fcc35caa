"""Promotion: a canary's live figures against stable's, the decision, and the models' state.

`shipyard promote` reads a server's `/metrics` per version (`figures`), decides whether the
canary is promoted, rolled back or needs more traffic (`decision`), edits the model config
through `shipyard.serving.labels` (the server reloads it), and records each decision in
the store (`records`). `shipyard models` lists every model's versions, blessings, labels,
decisions and what a server serves (`listing`).

The layer sits beside `predictions`, above `serving` (whose config it edits) and the store;
the CLI drives it. It imports no data library: the server is read over HTTP with the
standard library and prometheus_client's text parser.
"""
