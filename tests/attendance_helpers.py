"""Helpers for the birthday / theme day / duty tests: a chat client on the real database and outbox reads."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from bot import clock
from bot.models import Delivery, Member, OutboundMessage, ThemeDay
from bot.services import approvals


def queued(rt, recipient: str, channel: str | None = None) -> list[str]:
    """Contents of every message queued for `recipient`, oldest first."""
    with rt.session() as s:
        stmt = (select(OutboundMessage).join(Delivery, Delivery.message_id == OutboundMessage.id)
                .where(Delivery.recipient == recipient).order_by(OutboundMessage.id))
        if channel:
            stmt = stmt.where(OutboundMessage.channel == channel)
        return [json.loads(m.payload)["content"] for m in s.exec(stmt)]


def at(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=clock.tz())


def move(moment: dt.datetime) -> None:
    clock.freeze(moment)


def member(s, userid):
    return s.exec(select(Member).where(Member.userid == userid)).one()


def past_event(s, branch_id, when):
    event = ThemeDay(number=approvals.next_number(s, "theme_day"), branch_id=branch_id, starts_at=when,
                     place="会议室", topic=f"学习 {when:%m}", created_at=when)
    s.add(event)
    s.flush()
    return event
