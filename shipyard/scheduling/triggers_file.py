"""Read and check a triggers file (YAML) into a `TriggersConfig`, reporting every problem.

```yaml
limits:                          # optional, per pipeline file
  pipelines/taxi.py: {max_concurrent: 1, cooldown: 30m}
triggers:
  nightly:
    file: pipelines/taxi.py      # the pipeline file; relative to this file's directory
    pipeline: taxi               # optional: which pipeline of the file
    params: {source: data/taxi.parquet}
    schedule: {cron: "0 2 * * *", timezone: Europe/Paris, catch_up: once}
  new-span:
    file: pipelines/taxi.py
    new_data: {spans: "data/span-{SPAN}/*.csv", every: 1m}
  drift:
    file: pipelines/taxi.py
    monitor: {logs: logs/requests, reference: data/train.parquet, window: 1h}
  by-hand:
    file: pipelines/taxi.py
    manual: true
```

All problems are collected and raised at once as one `ConfigError` naming the file, the
trigger and the field of each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shipyard.errors import ConfigError
from shipyard.scheduling.triggers import (
    DEFAULT_ALERTS,
    ManualCondition,
    MonitorCondition,
    NewDataCondition,
    RunTarget,
    ScheduleCondition,
    Trigger,
    TriggersConfig,
)
from shipyard.store.firings import PipelineLimits

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.scheduling.triggers import Condition

__all__ = ["load_triggers", "parse_duration"]

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
_TARGET_FIELDS: Final = ("file", "pipeline", "params")
_CONDITIONS: Final = ("schedule", "new_data", "monitor", "manual")
_LIMIT_FIELDS: Final = ("max_concurrent", "cooldown")


def parse_duration(value: object) -> int | None:
    """Return a duration (`90s`, `15m`, `1h`, `1d`, or a number of seconds) in seconds, or
    None when `value` is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str):
        return None
    found = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)
    return None if found is None else int(found.group(1)) * _UNITS[found.group(2)]


def load_triggers(path: str | Path) -> TriggersConfig:
    """Read and check a triggers file.

    Raises:
        NotFoundError: The file does not exist.
        ConfigError: It is not YAML, or has problems (all listed, each naming its trigger
            and field, with what was found and what is expected).

    Example:
        >>> config = load_triggers("triggers.yaml")
        >>> config.triggers["nightly"].kind
        'schedule'
    """
    import yaml

    from shipyard.errors import NotFoundError

    file = Path(path).absolute()
    if not file.is_file():
        raise NotFoundError(
            f"No triggers file {file}.",
            hint="Give it: shipyard schedule FILE, or shipyard trigger NAME --triggers FILE.",
        )
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"The triggers file {file} is not valid YAML: {exc}") from exc
    reader = _Reader(file)
    config = reader.read(document)
    if reader.problems:
        count = len(reader.problems)
        listed = "\n".join(f"  {problem}" for problem in reader.problems)
        raise ConfigError(
            f"{count} problem{'s' if count > 1 else ''} in the triggers file {file}:\n{listed}",
            hint="See docs/continuous.md for the fields of a trigger.",
        )
    return config


class _Reader:
    """Reads one document, collecting problems instead of stopping at the first."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.base = file.parent
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def read(self, document: object) -> TriggersConfig:
        if not isinstance(document, dict):
            self.problem("the file", "must be a mapping with a 'triggers' key")
            return TriggersConfig(self.file, {})
        self._unknown("the file", document, ("triggers", "limits"))
        raw_triggers = document.get("triggers")
        if not isinstance(raw_triggers, dict) or not raw_triggers:
            self.problem(
                "field 'triggers'",
                f"must map trigger names to triggers. Got {_shown(raw_triggers)} instead",
            )
            raw_triggers = {}
        triggers: dict[str, Trigger] = {}
        for name, raw in raw_triggers.items():
            trigger = self._trigger(str(name), raw)
            if trigger is not None:
                triggers[trigger.name] = trigger
        return TriggersConfig(self.file, triggers, self._limits(document.get("limits")))

    def _trigger(self, name: str, raw: object) -> Trigger | None:
        where = f"trigger {name!r}"
        if _NAME.fullmatch(name) is None:
            self.problem(
                where,
                "a trigger's name must be letters, digits, '_', '.', ':' or '-' (at most 200)",
            )
        if not isinstance(raw, dict):
            self.problem(where, f"must be a mapping. Got {_shown(raw)} instead")
            return None
        self._unknown(where, raw, (*_TARGET_FIELDS, *_CONDITIONS))
        target = self._target(where, raw)
        given = [key for key in _CONDITIONS if key in raw]
        if len(given) != 1:
            self.problem(
                where,
                "must have exactly one condition of schedule, new_data, monitor or manual. "
                f"Got {', '.join(given) if given else 'none'} instead",
            )
            return None
        condition = self._condition(name, given[0], raw[given[0]])
        if target is None or condition is None:
            return None
        return Trigger(name, target, condition)

    def _target(self, where: str, raw: dict[str, Any]) -> RunTarget | None:
        file = raw.get("file")
        if not isinstance(file, str) or not file:
            self.problem(
                f"{where}, field 'file'", f"must name a pipeline file. Got {_shown(file)} instead"
            )
            return None
        path = (self.base / file).absolute()
        if not path.is_file():
            self.problem(f"{where}, field 'file'", f"no such pipeline file {path}")
        pipeline, params = raw.get("pipeline"), raw.get("params", {})
        if pipeline is not None and not isinstance(pipeline, str):
            self.problem(
                f"{where}, field 'pipeline'",
                f"must be the name of a pipeline of the file. Got {_shown(pipeline)} instead",
            )
            pipeline = None
        if not isinstance(params, dict):
            self.problem(
                f"{where}, field 'params'",
                f"must map the pipeline function's arguments to values. Got {_shown(params)} "
                "instead",
            )
            params = {}
        try:
            json.dumps(params, allow_nan=False)
        except (TypeError, ValueError):
            self.problem(
                f"{where}, field 'params'",
                "must hold plain JSON values (quote dates and times: '2026-01-01'). Got "
                f"{_shown(params)} instead",
            )
            params = {}
        return RunTarget(path, pipeline, {str(k): v for k, v in params.items()})

    def _condition(self, trigger: str, kind: str, raw: object) -> Condition | None:
        where = f"trigger {trigger!r}, field {kind!r}"
        if kind == "manual":
            if raw is not True:
                self.problem(where, f"must be true. Got {_shown(raw)} instead")
            return ManualCondition()
        if not isinstance(raw, dict):
            self.problem(where, f"must be a mapping of its fields. Got {_shown(raw)} instead")
            return None
        fields = _Fields(self, f"trigger {trigger!r}", raw, prefix=f"{kind}.")
        build: dict[str, Callable[[_Fields, str], Condition | None]] = {
            "schedule": _schedule,
            "new_data": _new_data,
            "monitor": self._monitor,
        }
        return build[kind](fields, trigger)

    def _monitor(self, fields: _Fields, trigger: str) -> Condition | None:
        fields.allow(
            "logs", "name", "reference", "schema", "window", "lateness", "timestamp",
            "min_rows", "dataset_share", "webhook", "alerts", "every",
        )  # fmt: skip
        logs = fields.text("logs", required=True)
        alerts = fields.raw.get("alerts", list(DEFAULT_ALERTS))
        if (
            not isinstance(alerts, list)
            or not alerts
            or not all(isinstance(a, str) for a in alerts)
        ):
            fields.bad("alerts", "must be a list of alert kinds such as [drift]", alerts)
            alerts = list(DEFAULT_ALERTS)
        schema = fields.text("schema")
        reference = fields.text("reference")
        webhook = fields.text("webhook")
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            fields.bad("webhook", "must be an http:// or https:// URL", webhook)
        share = fields.raw.get("dataset_share", 0.5)
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
            fields.bad("dataset_share", "must be a number from 0 to 1", share)
            share = 0.5
        min_rows = fields.raw.get("min_rows", 1000)
        if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 1:
            fields.bad("min_rows", "must be an int >= 1", min_rows)
            min_rows = 1000
        if logs is None:
            return None
        return MonitorCondition(
            logs=self.resolve(logs),
            name=fields.text("name") or f"trigger:{trigger}",
            reference=None if reference is None else self.resolve(reference),
            schema=None if schema is None else Path(self.resolve(schema)),
            window_s=fields.duration("window", 3600, positive=True),
            lateness_s=fields.duration("lateness", 0),
            timestamp=fields.text("timestamp") or "timestamp",
            min_rows=min_rows,
            dataset_share=float(share),
            webhook=webhook,
            alerts=tuple(alerts),
            every_s=fields.duration("every", 300, positive=True),
        )

    def resolve(self, text: str) -> str:
        """A local path made absolute against the file's directory; a URL as written."""
        return text if "://" in text else str((self.base / text).absolute())

    def _limits(self, raw: object) -> dict[str, PipelineLimits]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(
                "field 'limits'", f"must map pipeline files to limits. Got {_shown(raw)} instead"
            )
            return {}
        limits: dict[str, PipelineLimits] = {}
        for file, entry in raw.items():
            where = f"limits of {file!r}"
            if not isinstance(entry, dict):
                self.problem(where, f"must be a mapping. Got {_shown(entry)} instead")
                continue
            fields = _Fields(self, where, entry)
            fields.allow(*_LIMIT_FIELDS)
            most = entry.get("max_concurrent", 1)
            if not isinstance(most, int) or isinstance(most, bool) or most < 1:
                fields.bad("max_concurrent", "must be an int >= 1", most)
                most = 1
            cooldown = fields.duration("cooldown", 0)
            limits[self.resolve(str(file))] = PipelineLimits(most, float(cooldown))
        return limits

    def _unknown(self, where: str, raw: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in raw:
            if key not in known:
                self.problem(
                    f"{where}, field {str(key)!r}",
                    f"is not a known field; the known ones are {', '.join(known)}",
                )


class _Fields:
    """The fields of one mapping (a condition, a pipeline's limits), read with checks."""

    def __init__(
        self, reader: _Reader, where: str, raw: dict[str, Any], *, prefix: str = ""
    ) -> None:
        self.reader, self.where, self.raw, self.prefix = reader, where, raw, prefix

    def at(self, key: str) -> str:
        """Where a field is, for messages: "trigger 'nightly', field 'schedule.cron'"."""
        return f"{self.where}, field {self.prefix + key!r}"

    def allow(self, *known: str) -> None:
        for key in self.raw:
            if key not in known:
                self.reader.problem(
                    self.at(str(key)),
                    f"is not a known field; the known ones are {', '.join(known)}",
                )

    def bad(self, key: str, expected: str, got: object) -> None:
        self.reader.problem(self.at(key), f"{expected}. Got {_shown(got)} instead")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            self.bad(key, "must be a non-empty string", value)
            return None
        return value

    def duration(self, key: str, default: int, *, positive: bool = False) -> int:
        if key not in self.raw:
            return default
        seconds = parse_duration(self.raw[key])
        if seconds is None or (positive and seconds == 0):
            self.bad(
                key,
                f"must be a duration such as 90s, 15m, 1h or 1d{' (not 0)' if positive else ''}",
                self.raw[key],
            )
            return default
        return seconds

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.bad(key, "must be true or false", value)
            return default
        return value


def _schedule(fields: _Fields, trigger: str) -> Condition | None:
    from shipyard.scheduling.cron import check_cron, check_timezone

    fields.allow("cron", "timezone", "catch_up", "grace")
    cron = fields.text("cron", required=True)
    timezone = fields.text("timezone") or "UTC"
    catch_up = fields.raw.get("catch_up", "skip")
    if catch_up not in ("skip", "once"):
        fields.bad("catch_up", "must be 'skip' or 'once'", catch_up)
        catch_up = "skip"
    valid = cron is not None
    for key, value, check in (("cron", cron, check_cron), ("timezone", timezone, check_timezone)):
        problem = None if value is None else check(value)
        if problem is not None:
            fields.bad(key, problem, value)
            valid = False
    grace_s = fields.duration("grace", 300)
    if not valid or cron is None:
        return None
    return ScheduleCondition(cron, timezone, catch_up, grace_s)


def _new_data(fields: _Fields, trigger: str) -> Condition | None:
    fields.allow("spans", "files", "every", "include_existing")
    spans, files = fields.text("spans"), fields.text("files")
    if (spans is None) == (files is None):
        fields.reader.problem(
            fields.where + f", field {fields.prefix.rstrip('.')!r}",
            "must have one of 'spans' (a pattern with {SPAN}) or 'files' (a glob). Got "
            f"{'both' if spans and files else 'neither'} instead",
        )
        return None
    if spans is not None and "{SPAN}" not in spans:
        fields.bad(
            "spans", "must be a path pattern with {SPAN}, e.g. data/span-{SPAN}/*.csv", spans
        )
        return None
    return NewDataCondition(
        spans=None if spans is None else fields.reader.resolve(spans),
        files=None if files is None else fields.reader.resolve(files),
        every_s=fields.duration("every", 60, positive=True),
        include_existing=fields.flag("include_existing", False),
    )


def _shown(value: object) -> str:
    """A value as an error message quotes it: short, and "nothing" for a missing one."""
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
