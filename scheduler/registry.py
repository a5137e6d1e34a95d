"""The job registry: `Job` rows, the `@job(...)` decorator feature modules use, and trigger arithmetic.

A job is `run(runtime, date) -> str | Skip | None`: the returned text is stored as the run's detail,
`SKIPPED` (or `Skip("reason")`) records that the job had nothing to do on that date.

    from scheduler.registry import job

    @job("morning_study", workdays_only=True)
    def morning_study(runtime, date): ...

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

JobFunc = Callable[["Runtime", dt.date], "str | Skip | None"]


@dataclass(frozen=True)
class Job:
    """One row of the JOBS table.

    id: stable; also the `[schedule]` key. per_date: guarded by a (job, date) `JobRun` row so its effect
    happens once per date; False for interval jobs that guard their own items (e.g. one reminder per
    (event, kind, member)). default: trigger when `[schedule]` has no key for the job.
    """

    id: str
    func: JobFunc
    workdays_only: bool = False
    per_date: bool = True
    default: str | None = None

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

    def run(self, runtime: Runtime, date: dt.date) -> str | Skip | None:
        if self.workdays_only and not clock.is_workday(date):
            return Skip(f"{date} is not a workday")
        return self.func(runtime, date)


JOBS: dict[str, Job] = {}


def register(entry: Job) -> Job:
    if entry.id in JOBS and JOBS[entry.id].func is not entry.func:
        raise ValueError(f"job {entry.id!r} is registered twice")
    JOBS[entry.id] = entry
    return entry


def job(job_id: str, *, workdays_only: bool = False, per_date: bool | None = None,
        default: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Register `func(runtime, date)` as job `job_id`.

    per_date defaults to True for a daily ("HH:MM") default trigger and False for an "every ..." one.
    """

    def wrap(func: JobFunc) -> JobFunc:
        guard = per_date
        if guard is None:
            base = default or DEFAULT_SCHEDULE.get(job_id, "")
            guard = not base.strip().lower().startswith("every")
        register(Job(job_id, func, workdays_only=workdays_only, per_date=guard, default=default))
        return func

    return wrap


def next_run(trigger: str, after: dt.datetime) -> dt.datetime:
    """When `trigger` fires next after `after` (business time; an interval counts from `after`)."""
    kind, value = parse_trigger(trigger)
    if kind == "interval":
        assert isinstance(value, int)
        return after + dt.timedelta(seconds=value)
    assert isinstance(value, dt.time)
    local = after.astimezone(clock.tz())
    candidate = clock.at(local.date(), value)
    if candidate <= local:
        candidate = clock.at(local.date() + dt.timedelta(days=1), value)
    return candidate
