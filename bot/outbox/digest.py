"""Folded notices and their digest; expired timed messages.

A notice beyond `daily_budget` is stored `folded` (never sent by itself). The worker, each round, queues one
digest per member at the first `[delivery] digest_at` after the notice was folded: folded before 08:00 →
that day's 08:00 digest; folded at or after 08:00 → the next day's (so a member never gets more than one
digest a day, and it comes after the 07:50 card). A digest lists at most `SHOWN` notices, one shortened line
each, and ends with 「另有 N 条，回复「通知」查看」 (or 「回复「通知」查看全文」); it is a notice outside
the budget, so it is never folded again. `通知` (bot.outbox.digest.listing) shows the full texts.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col

from bot import clock, texts
from bot.config import parse_hhmm
from bot.models import Delivery, OutboundMessage
from bot.outbox.classes import expiry_reason
from bot.outbox.enqueue import IN_CHUNK, chunks, enqueue

SHOWN = 10
LINE_CHARS = 30  # a digest line: the notice's first line, shortened
_MARKUP = re.compile(r"[*#>`]+")


def last_digest_moment(config: Any, now: dt.datetime) -> dt.datetime:
    """The latest `digest_at` not after `now`: notices folded before it are due in a digest."""
    at = parse_hhmm(config.delivery.digest_at)
    today = clock.local(now).date()
    moment = clock.at(today, at)
    return moment if moment <= now else clock.at(today - dt.timedelta(days=1), at)


def first_line(kind: str, payload: str, limit: int | None = LINE_CHARS) -> str:
    """A folded message as one line (`limit` characters at most, else its whole text)."""
    body = json.loads(payload)
    if kind in ("text", "markdown"):
        text = str(body.get("content", ""))
    elif kind == "textcard":
        text = f"{body.get('title', '')}\n{body.get('description', '')}"
    else:
        text = str((body.get("main_title") or {}).get("title", ""))
    text = _MARKUP.sub("", text).strip()
    if limit is None:
        return text
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[:limit - 1] + "…"


def text_for(lines: list[str]) -> str:
    shown = lines[:SHOWN]
    more = len(lines) - len(shown)
    tail = texts.t("outbox.digest_more", count=more) if more else texts.t("outbox.digest_all")
    return "\n".join([texts.t("outbox.digest_header", count=len(lines)),
                      *(f"{i}. {line}" for i, line in enumerate(shown, start=1)), tail])


def assemble(session: Session, config: Any, now: dt.datetime) -> int:
    """Queue every digest that is due (one per member and channel); returns the digests queued. A digest
    listing a notice about an anonymous report is sealed like it (its times kept to the day)."""
    cutoff = last_digest_moment(config, now)
    query = (sa_select(col(Delivery.id), col(Delivery.recipient), col(OutboundMessage.channel),
                       col(OutboundMessage.kind), col(OutboundMessage.payload), col(OutboundMessage.sealed))
             .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
             .where(col(Delivery.status) == "folded", col(Delivery.digest_id).is_(None),
                    col(Delivery.not_before) < cutoff)
             .order_by(col(Delivery.not_before), col(Delivery.id)))
    groups: dict[tuple[str, str], list[Any]] = collections.defaultdict(list)
    for row in session.execute(query):
        groups[(row.channel, row.recipient)].append(row)
    for (channel, recipient), rows in groups.items():
        text = text_for([first_line(row.kind, row.payload) for row in rows])
        message = enqueue(session, channel=channel, kind="text", payload={"content": text}, topic="notice_digest",
                          recipients=[recipient], key=f"notice_digest:{channel}:{recipient}:{cutoff:%Y-%m-%d}",
                          created_by="outbox", config=config, sealed=any(row.sealed for row in rows))
        for chunk in chunks([row.id for row in rows], IN_CHUNK):
            session.exec(update(Delivery).where(col(Delivery.id).in_(list(chunk)))  
                         .values(digest_id=message.id).execution_options(synchronize_session=False))
    return len(groups)


def has_due(session: Session, config: Any, now: dt.datetime) -> bool:
    """Whether `assemble` or `expire` has anything to do (a read, so an idle worker takes no write lock)."""
    cutoff = last_digest_moment(config, now)
    folded = sa_select(col(Delivery.id)).where(col(Delivery.status) == "folded", col(Delivery.digest_id).is_(None),
                                               col(Delivery.not_before) < cutoff).limit(1)
    return session.execute(folded).first() is not None or session.execute(_expired(now).limit(1)).first() is not None


def _expired(now: dt.datetime) -> Any:
    return (sa_select(col(Delivery.id), col(OutboundMessage.topic), col(OutboundMessage.expires_at))
            .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
            .where(col(Delivery.status) == "queued", col(OutboundMessage.expires_at).is_not(None),
                   col(OutboundMessage.expires_at) <= now))


def expire(session: Session, now: dt.datetime) -> int:
    """Queued rows whose message expired are recorded `expired` with the reason, never sent late."""
    by_reason: dict[str, list[int]] = collections.defaultdict(list)
    for row in session.execute(_expired(now)):
        by_reason[expiry_reason(row.topic, row.expires_at) if row.topic else "expired before delivery"].append(row.id)
    for reason, ids in by_reason.items():
        for chunk in chunks(ids, IN_CHUNK):
            session.exec(update(Delivery).where(col(Delivery.id).in_(list(chunk)))  
                         .values(status="expired", last_error=reason[:500])
                         .execution_options(synchronize_session=False))
    return sum(len(ids) for ids in by_reason.values())


def listing(session: Session, recipients: list[str], now: dt.datetime) -> list[str]:
    """`通知`: the member's folded notices of yesterday and today (those in today's digest and those waiting
    for tomorrow's), oldest first, each in full with its time."""
    since = clock.at(clock.local(now).date() - dt.timedelta(days=1), dt.time(0))
    query = (sa_select(col(Delivery.not_before), col(OutboundMessage.kind), col(OutboundMessage.payload))
             .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
             .where(col(Delivery.status) == "folded", col(Delivery.recipient).in_(recipients),
                    col(Delivery.not_before) >= since)
             .order_by(col(Delivery.not_before), col(Delivery.id)))
    return [f"{i}.（{clock.local(row.not_before):%m-%d %H:%M}）{first_line(row.kind, row.payload, None)}"
            for i, row in enumerate(session.execute(query), start=1)]
