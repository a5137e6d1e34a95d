"""Helpers for the birthday / theme day / duty tests: a chat client on the real database and outbox reads."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from bot import clock
from bot.models import Delivery, OutboundMessage


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
