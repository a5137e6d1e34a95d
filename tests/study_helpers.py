"""Builders for the study tests: a small library written through the real importer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot import clock
from bot.models import Member, StudyItem
from bot.services.study import content as study_content

BODY = "学习内容正文。" * 20


def item(slug: str, series: str = "理论摘编", **extra: Any) -> dict[str, Any]:
    raw = {"slug": slug, "series": series, "title": f"标题{slug}", "summary": f"摘要{slug}", "body": BODY,
           "status": "reviewed", **extra}
    return study_content.validate(raw)


def add_items(rt, *items: dict[str, Any]) -> None:
    with rt.session() as session:
        study_content.apply(session, list(items), "test")


def member(session, userid: str) -> Member:
    return session.exec(select(Member).where(Member.userid == userid)).one()


def get_item(session, slug: str) -> StudyItem:
    return session.exec(select(StudyItem).where(StudyItem.slug == slug)).one()


def at_day(day: dt.date, hour: int = 9) -> None:
    clock.freeze(dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.tz()))
