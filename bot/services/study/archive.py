"""The archive of published study items, one query for the public `GET /study/` page and the console's
archive: newest first by the day each item went out (its first study day, else its `publish_on`), filtered
by series and by words in the title, summary or body, a page at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.models import STUDY_SERIES, StudyDay, StudyItem

PER_PAGE = 30
MAX_PAGE = 10_000
QUERY_MAX = 40


@dataclass
class Entry:
    day: dt.date | None
    item: StudyItem


@dataclass
class Archive:
    entries: list[Entry]
    page: int
    per_page: int
    total: int
    text: str
    series: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clean(text: str, series: str) -> tuple[str, str]:
    """The search words (spaces folded, at most QUERY_MAX characters) and a known series, else ""."""
    return " ".join(text.split())[:QUERY_MAX], series if series in STUDY_SERIES else ""


def search(session: Session, text: str = "", series: str = "", page: int = 1, per_page: int = PER_PAGE) -> Archive:
    text, series = clean(text, series)
    first_day = (select(StudyDay.item_id, func.min(StudyDay.date).label("day"))
                 .group_by(col(StudyDay.item_id)).subquery())
    day = func.coalesce(first_day.c.day, col(StudyItem.publish_on))
    where: list[Any] = [StudyItem.status == "published"]
    if series:
        where.append(StudyItem.series == series)
    for word in text.split():
        pattern = _like(word)
        where.append(or_(col(StudyItem.title).like(pattern, escape="\\"),
                         col(StudyItem.summary).like(pattern, escape="\\"),
                         col(StudyItem.body).like(pattern, escape="\\")))
    total = session.exec(select(func.count()).select_from(StudyItem).where(*where)).one()
    page = min(max(page, 1), MAX_PAGE)
    rows = session.exec(select(StudyItem, day).outerjoin(first_day, first_day.c.item_id == StudyItem.id)
                        .where(*where).order_by(day.desc().nulls_last(), col(StudyItem.id).desc())
                        .limit(per_page).offset((page - 1) * per_page))
    return Archive([Entry(d, item) for item, d in rows], page, per_page, total, text, series)
