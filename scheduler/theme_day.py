"""Theme party day jobs: `theme_day_reminders` and `theme_day_close` (every 10m, guarded per item),
`theme_day_deadline` and `attendance_rules` (09:00 daily, guarded per date)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot import clock
from scheduler.registry import job

if TYPE_CHECKING:
    from bot.runtime import Runtime


@job("theme_day_reminders")
def theme_day_reminders(runtime: Runtime, date: dt.date) -> str:
    """Day-before and 2-hours-before reminders, once per (event, kind, member)."""
    from bot.services import theme_day_jobs

    with runtime.write() as session:
        count = theme_day_jobs.remind(session, runtime.config, clock.now())
    return f"queued={count}"


@job("theme_day_close")
def theme_day_close(runtime: Runtime, date: dt.date) -> str:
    """After an event: results, points; absentees without approved leave recorded as unexcused."""
    from bot.services import theme_day_jobs

    with runtime.write() as session:
        count = theme_day_jobs.close(session, runtime.config, clock.now())
    return f"closed={count}"


@job("theme_day_deadline")
def theme_day_deadline(runtime: Runtime, date: dt.date) -> str:
    """On a branch's limit day, flag to the committee the branches with no theme day this month."""
    from bot.services import theme_day_jobs

    with runtime.write() as session:
        flagged = theme_day_jobs.deadline(session, runtime.config, date)
    return f"flagged={len(flagged)}"


@job("attendance_rules")
def attendance_rules(runtime: Runtime, date: dt.date) -> str:
    """Absence and late rules → alerts to the secretary and the committee, with follow-up tasks."""
    from bot.services import theme_day_jobs

    with runtime.write() as session:
        count = theme_day_jobs.apply_rules(session, runtime.config, date)
    return f"alerts={count}"
