"""The job registry: the JOBS table (every scheduled job, listed once, with its default trigger), `Job`,
and trigger arithmetic.

A job is `run(runtime, date) -> str | Skip | None`: the returned text is stored as the run's detail,
`SKIPPED` (or `Skip("reason")`) records that the job had nothing to do on that date. Its function lives in
its feature's module (`scheduler/study.py`, ...) and is named here as "module:function": importing this
module imports none of them. A new job: write the function, add its `Job(...)` line to `JOBS` below.

`when` says on which dates a job does its work (`WHEN`): "daily", "workdays" (`bot.clock.is_workday`, so
调休 Saturdays run and holidays do not) or "monthly" (the 1st). The trigger itself always fires daily (a
cron `mon-fri` would miss 调休 Saturdays); `Job.run` skips the other dates and `next_run` skips them too.
`default` is the trigger used when `[schedule]` has no key for the job; `[schedule]` is validated against
this table (`job_ids()`, `defaults()`, called by bot.config). This module is light (no APScheduler, no
feature module) so configuration and services can import it.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import clock
from bot.config import Config, ConfigError, parse_trigger

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

    id: stable; also the `[schedule]` key. func: the function, or "module:function" imported when first
    run. default: trigger when `[schedule]` has no key for the job. per_date: guarded by a (job, date)
    `JobRun` row so its effect happens once per date; by default True for a daily ("HH:MM") default and
    False for an "every ..." one, whose job guards its own items (e.g. one reminder per (event, kind,
    member)). when: see `WHEN`.
    """

    id: str
    func: JobFunc | str
    per_date: bool | None = None
    default: str | None = None
    when: str = "daily"

    def __post_init__(self) -> None:
        if self.when not in WHEN:
            raise ValueError(f"job {self.id!r}: when must be one of {', '.join(WHEN)}")
        if self.per_date is None:
            interval = (self.default or "").strip().lower().startswith("every")
            object.__setattr__(self, "per_date", not interval)

    @property
    def function(self) -> JobFunc:
        if callable(self.func):
            return self.func
        module, _, name = self.func.partition(":")
        found: JobFunc = getattr(importlib.import_module(module), name)
        return found

    @property
    def description(self) -> str:
        doc = (self.function.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def trigger(self, config: Config) -> str:
        """The `[schedule]` value for this job (`"HH:MM"` or `"every 10m"`), validated."""
        value = config.schedule.get(self.id) or self.default
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
        return self.function(runtime, date)


JOBS: dict[str, Job] = {job.id: job for job in (
    Job("morning_study", "scheduler.study:morning_study", default="07:50", when="workdays"),
    Job("study_reminder", "scheduler.study:study_reminder", default="12:00", when="workdays"),
    Job("content_gap_alert", "scheduler.study:content_gap_alert", default="15:00", when="workdays"),
    Job("political_birthday", "scheduler.birthday:political_birthday", default="08:30"),
    Job("birthday_list", "scheduler.birthday:birthday_list", default="08:30", when="monthly"),
    Job("theme_day_reminders", "scheduler.theme_day:theme_day_reminders", default="every 10m"),
    Job("theme_day_close", "scheduler.theme_day:theme_day_close", default="every 10m"),
    Job("theme_day_deadline", "scheduler.theme_day:theme_day_deadline", default="09:00"),
    Job("attendance_rules", "scheduler.theme_day:attendance_rules", default="09:00"),
    Job("duty_reminder", "scheduler.duty:duty_reminder", default="17:00"),
    # also closes commitment satisfaction votes
    Job("ticket_escalation", "scheduler.tickets:ticket_escalation", default="every 10m"),
    Job("review_finalise", "scheduler.reviews:review_finalise", default="09:00"),
    Job("housekeeping", "scheduler.housekeeping:housekeeping", default="03:30"),
    Job("secretary_digest", "scheduler.digest:secretary_digest", default="17:30", when="workdays"),
)}


def job_ids() -> list[str]:
    """Every job id: the keys `[schedule]` may have."""
    return list(JOBS)


def defaults() -> dict[str, str]:
    """The default `[schedule]`: job id -> trigger."""
    return {job.id: job.default for job in JOBS.values() if job.default}


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
