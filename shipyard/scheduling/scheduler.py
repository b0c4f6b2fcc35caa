"""`Scheduler`: holds the triggers' leases, evaluates them, records firings, runs them.

One `step` does, in order: hold (or renew) the lease of each trigger of the file no live
scheduler holds; evaluate the triggers that are due (a schedule at every step, new data and
monitors every `every`); admit the firings `shipyard trigger` requested; recover firings
whose process died; start the pending firings (`launch`); and record the runs that ended.

Reliability: a firing is recorded (pending) before its run starts, under a key that makes it
idempotent, and only the scheduler holding a trigger's lease evaluates it, so a trigger never
fires twice, whichever scheduler crashes when. A pending firing whose run never started is
started by the next scheduler to hold its trigger; a running one whose process died, or one
interrupted when a scheduler stopped, runs again (resuming from the cache) up to
`MAX_ATTEMPTS` times, if a scheduler had started it (not `shipyard trigger`).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import time
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from shipyard.errors import PlatformError, ShipyardError
from shipyard.runners.interrupts import STOP_GRACE_S
from shipyard.scheduling.clock import SystemClock
from shipyard.scheduling.conditions import (
    Evaluation,
    evaluate_monitor,
    evaluate_new_data,
    evaluate_schedule,
)
from shipyard.scheduling.cron import next_time
from shipyard.scheduling.firing import holder_alive, new_firing
from shipyard.scheduling.triggers import (
    ManualCondition,
    MonitorCondition,
    NewDataCondition,
    ScheduleCondition,
)
from shipyard.store.firings import ACTIVE_STATES

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from datetime import datetime

    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.monitoring.report import MonitorResult
    from shipyard.scheduling.clock import Clock
    from shipyard.scheduling.launch import Handle, Launcher
    from shipyard.scheduling.store import SchedulerStore
    from shipyard.scheduling.triggers import Trigger, TriggersConfig
    from shipyard.store.firings import FiringRecord, FiringState, TriggerLease

__all__ = ["LEASE_S", "MAX_ATTEMPTS", "STOP_WAIT_S", "Scheduler"]

LEASE_S: Final = 60.0
"""How long a trigger's lease lasts unless renewed; renewed between evaluations once a third
of it has passed, so one evaluation (a monitor reading its new logs) must take less."""
MAX_ATTEMPTS: Final = 3
"""How many times a firing's run is started, counting those interrupted or killed."""
ONCE_POLL_S: Final = 0.1
"""How often `run_once` looks whether its runs ended."""
MAX_BACKOFF_S: Final = 60.0
"""The longest pause after steps that failed in a row."""
STOP_WAIT_S: Final = STOP_GRACE_S + 20.0
"""How long a stopping scheduler waits for its runs to record themselves interrupted."""

logger = logging.getLogger("shipyard.scheduling")


class Scheduler:
    """Evaluates the triggers of one triggers file and runs what they fire.

    Args:
        config: The checked triggers file.
        store: Where firings and leases are recorded.
        launcher: Starts each firing's run (a `SubprocessLauncher` in `shipyard schedule`).
        artifact_root: Where runs publish artifacts (None: the project's default).
        clock: The time (tests move a clock by hand).
        poll_s: The pause between two steps of `run`.
        lease_s: How long a lease lasts unless renewed.
        monitor: Runs a monitor trigger's monitor once and records its report (in
            `shipyard schedule`: `shipyard.runners.monitor_runs.monitor` on the store, finding
            the served version's training statistics where no reference is given); needed
            by monitor triggers only.

    Example:
        >>> scheduler = Scheduler(load_triggers("triggers.yaml"), store, launcher=launcher)
        >>> firings = scheduler.run_once()
    """

    def __init__(
        self,
        config: TriggersConfig,
        store: SchedulerStore,
        *,
        launcher: Launcher,
        artifact_root: str | None = None,
        clock: Clock | None = None,
        poll_s: float = 1.0,
        lease_s: float = LEASE_S,
        monitor: Callable[[MonitorOptions], MonitorResult] | None = None,
    ) -> None:
        from shipyard.runners.liveness import process_started

        self.config, self.store, self.launcher = config, store, launcher
        self.artifact_root = artifact_root
        self.clock = clock or SystemClock()
        self.poll_s, self.lease_s = poll_s, lease_s
        self.monitor = monitor
        host, pid = socket.gethostname(), os.getpid()
        self.holder = f"{host}:{pid}:{secrets.token_hex(4)}"
        self.identity = {
            "host": host, "pid": pid, "pid_started": process_started(pid),
            "triggers_file": str(config.path),
        }  # fmt: skip
        self.leases: dict[str, TriggerLease] = {}
        """The leases this scheduler holds, as last read or written."""
        self.handles: dict[int, Handle] = {}
        self.started: list[int] = []
        """The firings whose runs this scheduler started, in order."""
        self._stopping: set[int] = set()
        self._next_claim: dict[str, datetime] = {}
        self._next_look: dict[str, datetime] = {}
        self._waiting: dict[str, str] = {}
        self._given_up: set[int] = set()
        self._first_step = True

    # Driving ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Step until `stop` is set, then stop the runs and let go of the leases.

        A step that fails (the store unreachable, a bug) is logged and tried again, less
        often after each failure in a row (up to once a minute): the scheduler never dies of
        it, and a step done again fires nothing twice.
        """
        failures = 0
        try:
            while not stop.is_set():
                try:
                    self.step()
                    failures = 0
                except Exception:
                    failures += 1
                    logger.exception("A step of the scheduler failed (%s in a row)", failures)
                stop.wait(min(self.poll_s * 2 ** min(failures, 10), MAX_BACKOFF_S))
        finally:
            self.close()

    def run_once(self) -> list[FiringRecord]:
        """Evaluate every trigger once, run what fires, wait for the runs; return their firings.

        Firings left pending or interrupted by an earlier scheduler run too.
        """
        try:
            self.step(evaluate_all=True)
            while self.handles:
                self.clock.sleep(min(self.poll_s, ONCE_POLL_S))
                self._hold(self.clock.now())
                self._reap()
            return [self.store.get_firing(firing_id) for firing_id in self.started]
        finally:
            self.close()

    def step(self, *, evaluate_all: bool = False) -> None:
        """Do one round: leases, evaluations, admissions, recovery, launches, ends."""
        now = self.clock.now()
        self._hold(now)
        for name, trigger in self.config.triggers.items():
            if name in self.leases and (evaluate_all or self._due(trigger, now)):
                started = time.monotonic()
                self._evaluate(trigger, now)
                if time.monotonic() - started > self.lease_s / 6:  # a monitor reading logs
                    now = self.clock.now()
                    self._hold(now)
        self._admit(now)
        self._recover()
        self._launch()
        self._reap()
        self._first_step = False

    def close(self, *, wait_s: float = STOP_WAIT_S) -> None:
        """Stop the running runs (they record themselves interrupted), wait up to `wait_s`
        for them, and let go of the leases; the next scheduler resumes the runs."""
        for firing_id, handle in self.handles.items():
            self._stopping.add(firing_id)
            handle.stop()
        deadline = time.monotonic() + wait_s
        while self.handles and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        for handle in self.handles.values():
            handle.kill()
        end = time.monotonic() + 5.0
        while self.handles and time.monotonic() < end:
            self._reap()
            time.sleep(0.05)
        for name in list(self.leases):
            try:
                self.store.release_lease(name, holder=self.holder)
            except ShipyardError as exc:  # it lapses in `lease_s`
                logger.warning("Could not let go of trigger %r: %s", name, exc)
        self.leases.clear()

    # Leases -------------------------------------------------------------------------------
    def _hold(self, now: datetime) -> None:
        """Renew the leases held, all in one transaction, once a third of their time has
        passed; claim the others when no live scheduler holds them (a read, mostly)."""
        expires_at = now + timedelta(seconds=self.lease_s)
        renew_before = timedelta(seconds=self.lease_s * 2 / 3)
        due = [
            name
            for name, lease in self.leases.items()
            if lease.expires_at is None or lease.expires_at - now <= renew_before
        ]
        if due:
            renewed = self.store.renew_leases(due, holder=self.holder, expires_at=expires_at)
            for name in due:
                if name in renewed:
                    self.leases[name] = replace(self.leases[name], expires_at=expires_at)
                else:
                    logger.warning("Lost the lease of trigger %r to another scheduler", name)
                    self.leases.pop(name, None)
        for name in self.config.triggers:
            if name in self.leases or now < self._next_claim.get(name, now):
                continue
            self._next_claim[name] = now + timedelta(seconds=self.lease_s / 3)
            current = self.store.get_lease(name)
            if current is not None and holder_alive(current, now):
                continue
            lease = self.store.claim_lease(
                name,
                holder=self.holder,
                properties=self.identity,
                expires_at=expires_at,
                now=now,
                take_from=None if current is None else current.holder,
            )
            if lease is not None:
                logger.info("Holding trigger %r", name)
                self.leases[name] = lease

    # Evaluating ---------------------------------------------------------------------------
    def _due(self, trigger: Trigger, now: datetime) -> bool:
        condition = trigger.condition
        if isinstance(condition, ScheduleCondition):  # nothing is due before its next time
            return now >= self._next_look.get(trigger.name, now)
        if isinstance(condition, ManualCondition):
            return False
        if now < self._next_look.get(trigger.name, now):
            return False
        self._next_look[trigger.name] = now + timedelta(seconds=condition.every_s)
        return True

    def _evaluate(self, trigger: Trigger, now: datetime) -> None:
        lease = self.leases[trigger.name]
        try:
            evaluation = self._condition(trigger, lease, now)
            if isinstance(trigger.condition, ScheduleCondition):
                condition = trigger.condition
                self._next_look[trigger.name] = next_time(condition.cron, condition.timezone, now)
        except ShipyardError as exc:
            logger.warning("Trigger %r: cannot evaluate its condition: %s", trigger.name, exc)
            return
        except Exception:
            logger.exception("Trigger %r: its condition failed", trigger.name)
            return
        if evaluation.note:
            logger.info("Trigger %r %s", trigger.name, evaluation.note)
        seen = evaluation.seen
        candidate = evaluation.candidate
        if candidate is not None:
            new = new_firing(
                self.config,
                trigger,
                key=candidate.key,
                reason=candidate.reason,
                artifact_root=self.artifact_root,
            )
            result = self.store.fire(
                new,
                limits=self.config.limits_of(trigger.target),
                now=now,
                record_blocked=candidate.record_blocked,
                seen=seen,
            )
            self._log_fire(trigger, candidate.key, result.outcome, result.reason, new.reason)
            if result.outcome != "duplicate":
                # Recorded: written with the firing. Blocked and not recorded: still unseen,
                # so that the next evaluation fires it.
                if result.firing is not None:
                    self.leases[trigger.name] = _with_seen(lease, seen)
                seen = None
        if seen is None and evaluation.cursor is None:
            return
        if not self.store.update_lease(
            trigger.name, holder=self.holder, cursor=evaluation.cursor, seen=seen
        ):
            logger.warning("Lost the lease of trigger %r to another scheduler", trigger.name)
            self.leases.pop(trigger.name, None)
            return
        self.leases[trigger.name] = _with_seen(self.leases[trigger.name], seen, evaluation.cursor)

    def _condition(self, trigger: Trigger, lease: TriggerLease, now: datetime) -> Evaluation:
        condition = trigger.condition
        if isinstance(condition, ScheduleCondition):
            return evaluate_schedule(condition, lease.cursor, now)
        if isinstance(condition, NewDataCondition):
            return evaluate_new_data(condition, lease.seen)
        if isinstance(condition, MonitorCondition):
            if self.monitor is None:
                raise PlatformError(
                    f"The scheduler was built without a monitor runner (`monitor=`), so it "
                    f"cannot evaluate the monitor trigger {trigger.name!r}."
                )
            return evaluate_monitor(condition, lease.seen, self.monitor)
        return Evaluation()

    def _log_fire(
        self, trigger: Trigger, key: str, outcome: str, blocked: str | None, reason: str
    ) -> None:
        if outcome == "fired":
            self._waiting.pop(trigger.name, None)
            logger.info("Trigger %r fired: %s", trigger.name, reason)
        elif outcome == "blocked" and trigger.kind == "schedule":
            logger.info("Trigger %r skipped (%s): %s", trigger.name, blocked, reason)
        elif outcome == "blocked" and self._waiting.get(trigger.name) != key:
            self._waiting[trigger.name] = key
            logger.info("Trigger %r waits (%s): %s", trigger.name, blocked, reason)

    # Firings ------------------------------------------------------------------------------
    def _admit(self, now: datetime) -> None:
        for firing in self.store.list_firings(states=["requested"]):
            trigger = self.config.triggers.get(firing.trigger)
            if trigger is None or firing.trigger not in self.leases:
                continue
            result = self.store.admit_firing(
                firing.id, limits=self.config.limits_of(trigger.target), now=now
            )
            if result.outcome == "fired":
                logger.info("Trigger %r fired by hand: %s", firing.trigger, firing.reason)
            else:
                logger.info("Trigger %r not run by hand: %s", firing.trigger, result.reason)

    def _recover(self) -> None:
        """Find firings whose process died, or that a stopping scheduler interrupted, and
        make them pending again (their runs resume from the cache)."""
        states: list[FiringState] = ["running"]
        if self._first_step:
            states.append("interrupted")
        for found in self.store.list_firings(states=states, limit=500):
            if found.trigger not in self.leases or found.id in self.handles:
                continue
            if found.id in self._given_up:
                continue
            firing = found
            launcher = found.properties.get("launcher") or {}
            if found.state == "running":
                if not _launcher_dead(found):
                    continue
                self._abandon_run(found)
                firing = self.store.finish_firing(
                    found.id, "interrupted", error=f"its process (pid {launcher.get('pid')}) died"
                )
            if not launcher.get("by_scheduler", False):
                continue  # `shipyard trigger` ran it: whoever stopped it decides
            if firing.attempts + 1 >= MAX_ATTEMPTS:
                self._given_up.add(firing.id)
                logger.warning(
                    "Firing %s of trigger %r was interrupted %s times; not run again",
                    firing.id, firing.trigger, firing.attempts + 1,
                )  # fmt: skip
                continue
            self.store.retry_firing(firing.id)
            logger.info("Resuming firing %s of trigger %r", firing.id, firing.trigger)

    def _launch(self) -> None:
        for firing in reversed(self.store.list_firings(states=["pending"])):
            if firing.trigger not in self.leases or firing.id in self.handles:
                continue
            try:
                self.handles[firing.id] = self.launcher.start(firing)
            except OSError as exc:
                self.store.finish_firing(firing.id, "failed", error=f"could not start: {exc}")
                logger.error("Firing %s of trigger %r could not start: %s", firing.id,
                             firing.trigger, exc)  # fmt: skip
                continue
            self.started.append(firing.id)

    def _reap(self) -> None:
        for firing_id, handle in list(self.handles.items()):
            code = handle.poll()
            if code is None:
                continue
            del self.handles[firing_id]
            firing = self.store.get_firing(firing_id)
            if firing.state == "running" and not _launcher_dead(firing):
                continue  # another process claimed it first; ours found it taken and ended
            if firing.state in ACTIVE_STATES:  # its process ended without recording it
                self._abandon_run(firing)
                stopped = firing_id in self._stopping or code in (
                    -signal.SIGTERM, -signal.SIGINT, 130,
                )  # fmt: skip
                firing = self.store.finish_firing(
                    firing_id,
                    "interrupted" if stopped else "failed",
                    error=f"its process {_exit_text(code)} before recording the run's end",
                )
            error = "" if not firing.error else f" ({_last_line(firing.error)})"
            logger.info(
                "Trigger %r, firing %s: run %s %s%s",
                firing.trigger, firing.id, firing.run_id, firing.state, error,
            )  # fmt: skip

    def _abandon_run(self, firing: FiringRecord) -> None:
        if firing.run_id is not None and self.store.get_run(firing.run_id).state == "running":
            self.store.abandon_run(firing.run_id)


def _with_seen(
    lease: TriggerLease, seen: dict[str, object] | None, cursor: datetime | None = None
) -> TriggerLease:
    return replace(
        lease,
        seen=lease.seen if seen is None else dict(seen),
        cursor=lease.cursor if cursor is None else cursor,
    )


def _launcher_dead(firing: FiringRecord) -> bool:
    from shipyard.runners.liveness import process_alive

    launcher = firing.properties.get("launcher") or {}
    pid, started = launcher.get("pid"), launcher.get("pid_started")
    return (
        isinstance(pid, int)
        and launcher.get("host") == socket.gethostname()
        and not process_alive(pid, started if isinstance(started, int) else None)
    )


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
