"""Monitoring of served models: request logs read in windows, drift, alerts and reports.

`shipyard monitor` reads the server's request logs (`shipyard.serving.request_log`) or any
Parquet or CSV data with a timestamp, counts every event-time window's values into the bins
of a reference computed once, and measures drift with the comparators of
`shipyard.components.drift`, the one owner of that choice, plus per-window measures such as
request latency (`measures`). Its state (the files read, the watermark, the open panes'
counts, the alerts firing) is kept by a `StateKeeper` (the store's records it in each run's
`MonitoringReport` artifact), so a rerun reads only new files and never counts a window
twice.

This layer sits beside the components: it may import `components`, `artifacts`, `store`,
`io` and `errors`; never `runners`, `engines`, `serving` or `cli`.
"""
