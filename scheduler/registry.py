"""The job registry: `Job` rows, the `@job(...)` decorator feature modules use, and trigger arithmetic.

A job is `run(runtime, date) -> str | Skip | None`: the returned text is stored as the run's detail,
`SKIPPED` (or `Skip("reason")`) records that the job had nothing to do on that date.

    from scheduler.registry import job

    @job("morning_study", when="workdays")
    def morning_study(runtime, date): ...

`when` says on which dates a job does its work (`WHEN`): "daily", "workdays" (`bot.clock.is_workday`, so
调休 Saturdays run and holidays do not) or "monthly" (the 1st). The trigger itself always fires daily (a
cron `mon-fri` would miss 调休 Saturdays); `Job.run` skips the other dates and `next_run` skips them too.

then add the module to `JOB_MODULES` in scheduler/jobs.py and the default trigger to
`bot.config.DEFAULT_SCHEDULE`. This module is light (no APScheduler) so services can import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import clock
from bot.config import DEFAULT_SCHEDULE, Config, ConfigError, parse_trigger

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True)
class Skip:
    """The job had nothing to do on this date (a workday job on a holiday, nothing queued, ...)."""

    reason: str = ""


SKIPPED = Skip()

WHEN = ("daily", "workdays", "monthly")
WHEN_LABELS = {"daily": "daily", "workdays": "workdays", "monthly": "on the 1st"}  # as in the contract's table


def runs_on(when: str, day: dt.date) -> bool:
    """Whether a job with this `when` does its work on `day`."""
    if when == "workdays":
        return clock.is_workday(day)
    if when == "monthly":
        return day.day == 1
    return True


def _skip_reason(when: str, day: dt.date) -> str:
    return f"{day} is not a workday" if when == "workdays" else "runs on the 1st of a month"

JobFunc = Callable[["Runtime", dt.date], "str | Skip | None"]


@dataclass(frozen=True)
class Job:
    """One row of the JOBS table.

    id: stable; also the `[schedule]` key. per_date: guarded by a (job, date) `JobRun` row so its effect
    happens once per date; False for interval jobs that guard their own items (e.g. one reminder per
    (event, kind, member)). default: trigger when `[schedule]` has no key for the job. when: see `WHEN`.
    """

    id: str
    func: JobFunc
    per_date: bool = True
    default: str | None = None
    when: str = "daily"

    def __post_init__(self) -> None:
        if self.when not in WHEN:
            raise ValueError(f"job {self.id!r}: when must be one of {', '.join(WHEN)}")

    @property
    def description(self) -> str:
        doc = (self.func.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def trigger(self, config: Config) -> str:
        """The `[schedule]` value for this job (`"HH:MM"` or `"every 10m"`), validated."""
        value = config.schedule.get(self.id) or self.default or DEFAULT_SCHEDULE.get(self.id)
        if not value:
            raise ConfigError(f"missing key [schedule] {self.id}")
        try:
            parse_trigger(value)
        except ValueError as exc:
            raise ConfigError(f"bad value for [schedule] {self.id}: {exc}") from exc
        return value

    def describe(self, config: Config) -> str:
        """The trigger as `jobs` shows it: "07:50 workdays", "08:30 on the 1st", "09:00 daily", "every 10m"."""
        trigger = self.trigger(config)
        if parse_trigger(trigger)[0] == "interval":
            return trigger
        return f"{trigger} {WHEN_LABELS[self.when]}"

    def next_run(self, config: Config, after: dt.datetime) -> dt.datetime:
        """When this job next does its work after `after` (a workday job: the next workday at HH:MM)."""
        return next_run(self.trigger(config), after, self.when)

    def run(self, runtime: Runtime, date: dt.date) -> str | Skip | None:
        if not runs_on(self.when, date):
            return Skip(_skip_reason(self.when, date))
        return self.func(runtime, date)


JOBS: dict[str, Job] = {}


def register(entry: Job) -> Job:
    if entry.id in JOBS and JOBS[entry.id].func is not entry.func:
        raise ValueError(f"job {entry.id!r} is registered twice")
    JOBS[entry.id] = entry
    return entry


def job(job_id: str, *, when: str = "daily", per_date: bool | None = None,
        default: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Register `func(runtime, date)` as job `job_id` doing its work on the dates `when` names.

    per_date defaults to True for a daily ("HH:MM") default trigger and False for an "every ..." one.
    """

    def wrap(func: JobFunc) -> JobFunc:
        guard = per_date
        if guard is None:
            base = default or DEFAULT_SCHEDULE.get(job_id, "")
            guard = not base.strip().lower().startswith("every")
        register(Job(job_id, func, per_date=guard, default=default, when=when))
        return func

    return wrap


def next_run(trigger: str, after: dt.datetime, when: str = "daily") -> dt.datetime:
    """When `trigger` next fires on a date `when` allows, after `after` (business time; an interval
    counts from `after`)."""
    kind, value = parse_trigger(trigger)
    if kind == "interval":
        assert isinstance(value, int)
        return after + dt.timedelta(seconds=value)
    assert isinstance(value, dt.time)
    local = after.astimezone(clock.tz())
    day = local.date()
    for _ in range(800):  # a workday within a year, a 1st within a month: far inside this bound
        candidate = clock.at(day, value)
        if candidate > local and runs_on(when, day):
            return candidate
        day += dt.timedelta(days=1)
    raise RuntimeError(f"no date for a {when} job within 800 days after {local.date()}")
