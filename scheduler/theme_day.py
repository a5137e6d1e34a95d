"""Theme party day jobs: `theme_day_reminders` and `theme_day_close` (every 10m, guarded per item),
`theme_day_deadline` and `attendance_rules` (09:00 daily, guarded per date)."""

from __future__ import annotations

import datetime as dt

from bot import clock
from bot.runtime import Runtime
from bot.services.theme_day import jobs as theme_day_jobs


def theme_day_reminders(runtime: Runtime, date: dt.date) -> str:
    """Day-before and 2-hours-before reminders, once per (event, kind, member)."""
    with runtime.write() as session:
        count = theme_day_jobs.remind(session, runtime.config, clock.now())
    return f"queued={count}"


def theme_day_close(runtime: Runtime, date: dt.date) -> str:
    """After an event: results, points; absentees without approved leave recorded as unexcused."""
    with runtime.write() as session:
        count = theme_day_jobs.close(session, runtime.config, clock.now())
    return f"closed={count}"


def theme_day_deadline(runtime: Runtime, date: dt.date) -> str:
    """On a branch's limit day, flag to the committee the branches with no theme day this month."""
    with runtime.write() as session:
        flagged = theme_day_jobs.deadline(session, runtime.config, date)
    return f"flagged={len(flagged)}"


def attendance_rules(runtime: Runtime, date: dt.date) -> str:
    """Absence and late rules → alerts to the secretary and the committee, with follow-up tasks."""
    with runtime.write() as session:
        count = theme_day_jobs.apply_rules(session, runtime.config, date)
    return f"alerts={count}"
