"""Morning study jobs: `morning_study` (07:50), `study_reminder` (12:00), `content_gap_alert` (15:00).

All three run on workdays only (bot.clock, so 调休 Saturdays run) and are guarded per (job, date); their
outbox messages are keyed by date as well, so even a forced rerun never sends anything twice.
"""

from __future__ import annotations

import datetime as dt

from bot.runtime import Runtime
from bot.services.study import core as study
from bot.services.study import push as study_push
from scheduler.registry import Skip


def morning_study(runtime: Runtime, date: dt.date) -> str | Skip:
    """Push the day's study card to every active member (branch push on, not 免打扰); 温故 when nothing
    reviewed is left (an earlier item again, marked)."""
    with runtime.write() as session:
        item, count = study_push.morning(session, runtime.config, date)
        review = item is not None and study.is_review(session, date)
    if item is None:
        return Skip("no study item for the day")
    return f"item={item.slug} recipients={count}" + (" review" if review else "")


def study_reminder(runtime: Runtime, date: dt.date) -> str | Skip:
    """One reminder to members who got the card and have not checked in."""
    with runtime.write() as session:
        count = study_push.remind(session, runtime.config, date)
    if count is None:
        return Skip("nothing was pushed that day")
    return f"reminded={count}"


def content_gap_alert(runtime: Runtime, date: dt.date) -> str:
    """Tell the editors when the next workday has no reviewed study item."""
    with runtime.write() as session:
        nxt, told = study_push.gap_alert(session, runtime.config, date)
    return f"next={nxt} ok" if told is None else f"next={nxt} editors_told={told}"
