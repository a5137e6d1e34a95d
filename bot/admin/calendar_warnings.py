"""The dashboard's calendar warnings besides chinese-calendar's missing year (`queries.dashboard`): the
content calendar's gaps, the workdays of the next two weeks that no study item would fill. A day is filled
when it has already chosen its item or has an item dated for it (scheduled or published); the other days
take the rotation's reviewed items without a date, one each, in order; the days left over are the gaps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import clock
from bot.models import StudyDay, StudyItem

AHEAD = 10  # workdays looked at, today included


def workdays_ahead(start: dt.date, count: int = AHEAD) -> list[dt.date]:
    days: list[dt.date] = []
    day = start
    while len(days) < count:
        if clock.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def study_gaps(session: Session, start: dt.date, count: int = AHEAD) -> list[dt.date]:
    days = workdays_ahead(start, count)
    chosen = set(session.exec(select(col(StudyDay.date)).where(col(StudyDay.date).in_(days))))
    dated = set(session.exec(select(col(StudyItem.publish_on)).where(
        col(StudyItem.publish_on).in_(days), col(StudyItem.status).in_(("scheduled", "published")))))
    used = select(StudyDay.item_id)
    pool = session.exec(select(func.count()).select_from(StudyItem).where(
        StudyItem.status == "reviewed", col(StudyItem.publish_on).is_(None), col(StudyItem.id).not_in(used))).one()
    open_days = [d for d in days if d not in chosen and d not in dated]
    return open_days[pool:]


def drafts(session: Session) -> int:
    return session.exec(select(func.count()).select_from(StudyItem).where(StudyItem.status == "draft")).one()
