"""Reading a triggers file: every kind of trigger, and every problem reported at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import ConfigError, NotFoundError
from shipyard.scheduling.triggers import (
    ManualCondition,
    MonitorCondition,
    NewDataCondition,
    ScheduleCondition,
)
from shipyard.scheduling.triggers_file import load_triggers, parse_duration
from shipyard.store.firings import PipelineLimits
from tests.scheduling.conftest import write_triggers

if TYPE_CHECKING:
    from pathlib import Path


def test_every_kind_of_trigger_is_read_with_paths_relative_to_the_file(project: Path) -> None:
    path = write_triggers(
        project,
        """
limits:
  pipeline.py: {max_concurrent: 2, cooldown: 30m}
  pipeline.py#crashing: {max_concurrent: 3}
triggers:
  crash:
    file: pipeline.py
    pipeline: crashing
    manual: true
  nightly:
    file: pipeline.py
    pipeline: blobs
    params: {size_bytes: 3}
    schedule: {cron: "0 2 * * *", timezone: Europe/Paris, catch_up: once}
  new-span:
    file: pipeline.py
    new_data: {spans: "data/span-{SPAN}/*.csv", every: 90s}
  new-files:
    file: pipeline.py
    new_data: {files: "incoming/*.parquet", include_existing: true}
  drift:
    file: pipeline.py
    monitor: {logs: logs, reference: ref.parquet, window: 15m, alerts: [drift]}
  by-hand:
    file: pipeline.py
    manual: true
""",
    )
    config = load_triggers(path)
    triggers = config.triggers
    assert list(triggers) == ["crash", "nightly", "new-span", "new-files", "drift", "by-hand"]
    nightly = triggers["nightly"]
    assert nightly.kind == "schedule"
    assert nightly.target.file == project / "pipeline.py"
    assert nightly.target.params == {"size_bytes": 3}
    assert nightly.condition == ScheduleCondition("0 2 * * *", "Europe/Paris", "once", 300)
    assert triggers["new-span"].condition == NewDataCondition(
        spans=str(project / "data/span-{SPAN}/*.csv"), every_s=90
    )
    assert triggers["new-files"].condition == NewDataCondition(
        files=str(project / "incoming/*.parquet"), include_existing=True
    )
    drift = triggers["drift"].condition
    assert isinstance(drift, MonitorCondition)
    assert (drift.logs, drift.reference) == (str(project / "logs"), str(project / "ref.parquet"))
    assert (drift.window_s, drift.alerts, drift.name) == (900, ("drift",), "trigger:drift")
    assert triggers["by-hand"].condition == ManualCondition()
    # a pipeline of the file has the file's limits, unless FILE#NAME gives its own
    assert config.limits_of(nightly.target) == PipelineLimits(2, 1800.0)
    assert config.limits_of(triggers["by-hand"].target) == PipelineLimits(2, 1800.0)
    assert config.limits_of(triggers["crash"].target) == PipelineLimits(3, 0.0)
    assert nightly.target.identity == f"{project / 'pipeline.py'}#blobs"


def test_every_problem_is_reported_at_once_naming_the_file_trigger_and_field(
    project: Path,
) -> None:
    path = write_triggers(
        project,
        """
limits:
  pipeline.py: {max_concurrent: 0, cooldown: soon}
triggers:
  nightly:
    file: pipeline.py
    schedule: {cron: "0 25 * * *", timezone: Mars/Olympus, catch_up: twice}
  two:
    file: pipeline.py
    params: {since: 2026-01-01}
    manual: true
    schedule: {cron: "* * * * *"}
  gone:
    file: missing.py
    new_data: {files: "*.csv", every: 0s, colour: blue}
  "bad name!":
    file: pipeline.py
    manual: yes please
""",
    )
    with pytest.raises(ConfigError) as raised:
        load_triggers(path)
    message = str(raised.value)
    assert message.startswith(f"12 problems in the triggers file {path}:")
    for expected in (
        "trigger 'nightly', field 'schedule.cron': must be a valid cron expression (Bad hour)."
        " Got '0 25 * * *' instead",
        "trigger 'nightly', field 'schedule.timezone': must be an IANA time zone name",
        "trigger 'nightly', field 'schedule.catch_up': must be 'skip' or 'once'. Got 'twice'",
        "trigger 'two': must have exactly one condition of schedule, new_data, monitor or "
        "manual. Got schedule, manual instead",
        f"trigger 'gone', field 'file': no such pipeline file {project / 'missing.py'}",
        "trigger 'gone', field 'new_data.colour': is not a known field",
        "trigger 'two', field 'params': must hold plain JSON values (quote dates and times: "
        "'2026-01-01'). Got {'since': datetime.date(2026, 1, 1)} instead",
        "trigger 'gone', field 'new_data.every': must be a duration such as 90s, 15m, 1h or 1d"
        " (not 0). Got '0s' instead",
        "trigger 'bad name!': a trigger's name must be letters",
        "trigger 'bad name!', field 'manual': must be true. Got 'yes please' instead",
        "limits of 'pipeline.py', field 'max_concurrent': must be an int >= 1. Got 0 instead",
    ):
        assert expected in message, expected
    assert "limits of 'pipeline.py', field 'cooldown': must be a duration" in message


def test_a_file_that_is_not_a_mapping_of_triggers_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No triggers file"):
        load_triggers(tmp_path / "nowhere.yaml")
    path = write_triggers(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="the file: must be a mapping with a 'triggers' key"):
        load_triggers(path)
    path.write_text("triggers: [\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_triggers(path)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), (45, 45)]
)
def test_durations_are_read_in_seconds(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1 week", "-5s", True, 1.5, None])
def test_what_is_not_a_duration_is_refused(text: object) -> None:
    assert parse_duration(text) is None


def test_the_docs_triggers_file_is_valid() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    config = load_triggers(docs / "examples" / "continuous" / "triggers.yaml")
    kinds = {name: trigger.kind for name, trigger in config.triggers.items()}
    assert kinds == {
        "nightly": "schedule", "new-span": "new_data", "drift": "monitor", "by-hand": "manual",
    }  # fmt: skip
    assert (docs / "continuous.md").read_text().count("docs/examples/continuous/triggers.yaml")
