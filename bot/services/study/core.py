"""Morning study (晨学三分钟): which item a workday publishes, and the `[study]` settings.

A workday's item is chosen once and kept in `StudyDay`: an urgent item with that `publish_on` replaces it,
else an explicit `publish_on`, else the rotation: the first workday of a week takes a `weekly_key` item,
the last takes a 道德讲堂 item, other days the reviewed item of the series used least recently (ties in
series order, then the oldest item). Only reviewed items are ever chosen; drafts never go out.

温故 (review): when nothing reviewed is left for a workday, the day re-sends the published item pushed least
recently (ties: the oldest item). Such a day is a study day like any other (check-ins, streaks, points);
`is_review` tells it apart (its item went out on an earlier day), and `pick` still answers None for it so
the editors' gap alert keeps coming until new items are reviewed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, true
from sqlmodel import Session, col, select

from bot import clock
from bot.db import dialect_insert, table_of
from bot.models import STUDY_SERIES, StudyDay, StudyItem

log = logging.getLogger(__name__)

ETHICS_SERIES = "道德讲堂"
CHOOSABLE = ("reviewed", "scheduled", "published")  # an explicit or urgent item in any of these may go out


def page_url(config: Any, item: StudyItem) -> str:
    return f"{config.app.public_url.rstrip('/')}/study/{item.slug}"


def week_workdays(day: dt.date) -> list[dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return [d for d in (monday + dt.timedelta(days=i) for i in range(7)) if clock.is_workday(d)]


def day_kind(day: dt.date) -> str:
    """"weekly" on the first workday of its week, "ethics" on the last, else "ordinary"."""
    days = week_workdays(day)
    if days and day == days[0]:
        return "weekly"
    if days and day == days[-1]:
        return "ethics"
    return "ordinary"


def _series_rank(series: str) -> int:
    return STUDY_SERIES.index(series) if series in STUDY_SERIES else len(STUDY_SERIES)


def _last_used(session: Session, before: dt.date) -> dict[str, dt.date]:
    rows = session.exec(select(StudyItem.series, func.max(StudyDay.date))
                        .join(StudyDay, col(StudyDay.item_id) == StudyItem.id)
                        .where(StudyDay.date < before).group_by(StudyItem.series))
    return {series: last for series, last in rows}


def _oldest_first(items: list[StudyItem], last_used: dict[str, dt.date]) -> list[StudyItem]:
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(items, key=lambda i: (last_used.get(i.series, dt.date.min), _series_rank(i.series),
                                        i.created_at or floor, i.id or 0))


def rotation(session: Session, day: dt.date) -> StudyItem | None:
    """The rotation's pick for `day` among reviewed items not yet used and without a publish date."""
    used = select(StudyDay.item_id)
    pool = list(session.exec(select(StudyItem).where(StudyItem.status == "reviewed",
                                                     col(StudyItem.publish_on).is_(None),
                                                     col(StudyItem.id).not_in(used))))
    if not pool:
        return None
    last = _last_used(session, day)
    kind = day_kind(day)
    ordinary = [i for i in pool if not i.weekly_key]
    if kind == "weekly":
        preferred = [i for i in pool if i.weekly_key]
    elif kind == "ethics":
        preferred = [i for i in ordinary if i.series == ETHICS_SERIES]
    else:
        preferred = []
    for candidates in (preferred, ordinary, pool):
        if candidates:
            return _oldest_first(candidates, last)[0]
    return None


def _dated(session: Session, day: dt.date, urgent: bool) -> StudyItem | None:
    stmt = (select(StudyItem).where(StudyItem.publish_on == day, col(StudyItem.status).in_(CHOOSABLE))
            .order_by(col(StudyItem.updated_at).desc(), col(StudyItem.id).desc()))
    if urgent:
        stmt = stmt.where(StudyItem.urgent == true())
    return session.exec(stmt).first()


def pick(session: Session, day: dt.date) -> StudyItem | None:
    """What `day` would publish, without recording anything (the gap alert asks this)."""
    chosen = session.exec(select(StudyDay).where(StudyDay.date == day)).first()
    urgent = _dated(session, day, urgent=True)
    if urgent is not None:
        return urgent
    if chosen is not None:
        return session.get(StudyItem, chosen.item_id)
    return _dated(session, day, urgent=False) or rotation(session, day)


def review_pick(session: Session, day: dt.date) -> StudyItem | None:
    """温故: the published item whose last study day before `day` is the oldest (ties: oldest item)."""
    items = list(session.exec(select(StudyItem).where(StudyItem.status == "published")))
    if not items:
        return None
    rows = session.exec(select(StudyDay.item_id, func.max(StudyDay.date))
                        .where(StudyDay.date < day).group_by(col(StudyDay.item_id)))
    last: dict[int, dt.date] = {item_id: date for item_id, date in rows}
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return min(items, key=lambda i: (last.get(i.id or 0, dt.date.min), i.created_at or floor, i.id or 0))


def is_review(session: Session, day: dt.date) -> bool:
    """Whether `day` is a 温故 day: its item already went out on an earlier study day."""
    chosen = get_day(session, day)
    if chosen is None:
        return False
    earlier = select(func.count()).select_from(StudyDay).where(StudyDay.item_id == chosen.item_id,
                                                               StudyDay.date < day)
    return bool(session.exec(earlier).one())


def fresh(session: Session, day: dt.date) -> StudyItem | None:
    """What `day` publishes that is not a 温故 re-send: None tells the editors the day has a gap."""
    item = pick(session, day)
    return None if item is None or is_review(session, day) else item


def get_day(session: Session, day: dt.date) -> StudyDay | None:
    return session.exec(select(StudyDay).where(StudyDay.date == day)).first()


def item_for(session: Session, day: dt.date) -> StudyItem | None:
    """The item `day` publishes, recorded in StudyDay the first time (None on a rest day, or when nothing
    reviewed is left and nothing was ever published to review). An urgent item replaces an earlier choice;
    when nothing reviewed is left, the day is a 温故 day (`review_pick`)."""
    if not clock.is_workday(day):
        return None
    current = get_day(session, day)
    item = pick(session, day)
    if item is None:
        item = review_pick(session, day)
        if item is None:
            return None
        log.info("study day %s: no reviewed item left, 温故 item %s", day, item.id)
    assert item.id is not None  # picked from the table
    if current is not None:
        if current.item_id != item.id:  # an urgent insertion
            replaced = session.get(StudyItem, current.item_id)
            if replaced is not None and replaced.status == "scheduled" and replaced.publish_on is None:
                replaced.status = "reviewed"  # back into the rotation
                session.add(replaced)
            log.info("study day %s: urgent item %s replaces item %s", day, item.slug, current.item_id)
            current.item_id = item.id
            session.add(current)
        _mark(session, item, "scheduled")
        return item
    session.exec(dialect_insert(session, table_of(StudyDay)).values(date=day, item_id=item.id, chosen_at=clock.now())
                 .on_conflict_do_nothing(index_elements=["date"]))
    chosen = get_day(session, day)
    assert chosen is not None
    winner = session.get(StudyItem, chosen.item_id)
    if winner is not None:
        _mark(session, winner, "scheduled")
    return winner


def _mark(session: Session, item: StudyItem, status: str) -> None:
    order = ("draft", "reviewed", "scheduled", "published")
    if order.index(status) > order.index(item.status if item.status in order else "draft"):
        item.status = status
        item.updated_at = clock.now()
        session.add(item)


def publish(session: Session, item: StudyItem) -> None:
    """The item went out (pushed, or shown by 学习 on its day): its page becomes readable."""
    _mark(session, item, "published")


def published_item(session: Session, slug: str) -> StudyItem | None:
    item = session.exec(select(StudyItem).where(StudyItem.slug == slug)).first()
    return item if item is not None and item.status == "published" else None
