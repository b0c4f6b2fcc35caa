"""Continuous training: triggers, and the scheduler that fires them (`shipyard schedule`).

Owns the triggers file (`triggers_file`), the conditions (cron schedules, new data, monitor
alerts), the scheduler loop and the launcher that runs a firing's pipeline in a process of
its own. Every firing is recorded in the store before its run starts (`shipyard.store.firings`).
May import `runners` (to run pipelines) and `monitoring` (the monitor condition) and the
layers below them; only the CLI imports it.
"""
