"""The JOBS table: every scheduled job, by stable id (also its `[schedule]` key).

Each job lives in its feature's module and registers itself with `@job(...)` from scheduler.registry;
this module imports those modules, so `JOBS` is complete once it is imported. A new feature adds one
line to `JOB_MODULES` (and its default trigger to `bot.config.DEFAULT_SCHEDULE`). Job modules import their
services inside the job function, so that `dangjian jobs` lists the table without loading the database layer.
"""

from __future__ import annotations

import importlib

from scheduler.registry import JOBS, SKIPPED, WHEN, Job, Skip, job, next_run, runs_on

JOB_MODULES: tuple[str, ...] = (
    "scheduler.housekeeping",  # housekeeping       03:30 daily
    "scheduler.study",  # morning_study 07:50, study_reminder 12:00, content_gap_alert 15:00 (when="workdays")
    "scheduler.tickets",  # ticket_escalation  every 10m (also closes commitment satisfaction votes)
    "scheduler.reviews",  # review_finalise    09:00 daily
    "scheduler.birthday",  # political_birthday 08:30, birthday_list 08:30 on the 1st (when="monthly")
    "scheduler.theme_day",  # theme_day_reminders/close every 10m, theme_day_deadline/attendance_rules 09:00
    "scheduler.duty",  # duty_reminder 17:00
    "scheduler.digest",  # secretary_digest 17:30 (when="workdays")
)


class UnknownJob(KeyError):
    """No job has this id."""

    def __str__(self) -> str:
        return f"unknown job {self.args[0]!r} (known: {', '.join(sorted(JOBS)) or 'none'})"


def load() -> dict[str, Job]:
    for name in JOB_MODULES:
        importlib.import_module(name)
    return JOBS


def get(job_id: str) -> Job:
    try:
        return load()[job_id]
    except KeyError:
        raise UnknownJob(job_id) from None


load()

__all__ = ["JOBS", "JOB_MODULES", "SKIPPED", "WHEN", "Job", "Skip", "UnknownJob", "get", "job", "load", "next_run",
           "runs_on"]
