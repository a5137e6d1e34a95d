"""Set-based queueing for a push to a whole audience (the morning card to 300,000 members): the delivery rows
are written by one `INSERT ... SELECT` from the member query, with no Python row per recipient.

The rows are planned in SQL by the same rules as bot.outbox.plan: reply and urgent at once; otherwise at the
end of quiet hours, `skipped` for a member on 免打扰 when the kind is held by it, `expired` when the end of
quiet hours is not before the expiry. The daily budget needs a count per recipient: a budgeted notice (and a
sealed message) goes through `enqueue` with the recipients read first, so the outcome is the same either way.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Select, case, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from bot import clock
from bot.config import Config
from bot.db import dialect_insert, table_of
from bot.models import Delivery, OutboundMessage
from bot.outbox import classes
from bot.outbox.classes import Rule
from bot.outbox.enqueue import enqueue, message_for, prepare
from bot.outbox.plan import DND_CHANNELS, needs_budget, slot

log = logging.getLogger(__name__)

COLUMNS = ("message_id", "recipient", "status", "attempts", "not_before", "retry_at", "lease_until", "last_error",
           "created_at")


def set_based(rule: Rule, config: Config, channel: str) -> bool:
    """Whether `plan` needs nothing per recipient but the member's 免打扰 flag (no daily budget to count)."""
    return not needs_budget(rule, config, channel)


def enqueue_select(session: Session, *, channel: str, kind: str, payload: dict[str, Any], recipients: Select,
                   topic: str, key: str, anchor: dt.date | dt.datetime | None = None,
                   created_by: str | None = None, config: Config) -> OutboundMessage:
    """`enqueue` for the recipients a query gives: `recipients` selects two columns, the recipient (userid
    or openid) and whether its member is on 免打扰, one row per recipient, in the order to queue them.
    Idempotent by `key` like `enqueue` (recipients already queued are left alone)."""
    fields = prepare(channel=channel, kind=kind, payload=payload, topic=topic, anchor=anchor,
                     created_by=created_by, config=config)
    message = message_for(session, key, fields)
    stored = message.topic or topic
    rule = classes.rule(stored)
    if not set_based(rule, config, message.channel):
        wanted = [str(row[0]) for row in session.execute(recipients)]
        return enqueue(session, channel=channel, kind=kind, payload=payload, recipients=wanted, topic=topic,
                       key=key, anchor=anchor, created_by=created_by, config=config)
    source = recipients.subquery()
    recipient, dnd = source.c[0], source.c[1]
    now = clock.now()
    status, reason, first = _planned(rule, config, message, stored, dnd, now)
    stamp = table_of(Delivery).c.not_before.type
    rows = (select(literal(message.id), recipient, status, literal(0), literal(first, stamp), literal(0.0),
                   literal(0.0), reason, literal(now, stamp))
            .where(recipient.is_not(None), recipient != ""))
    stmt = (dialect_insert(session, table_of(Delivery)).from_select(list(COLUMNS), rows)
            .on_conflict_do_nothing(index_elements=["message_id", "recipient"]))
    added = session.execute(stmt).rowcount  # type: ignore[attr-defined]  # a CursorResult
    log.info("enqueued message %s (%s/%s, %s) for %d new recipients", message.id, channel, kind, topic, added)
    return message


def _planned(rule: Rule, config: Config, message: OutboundMessage, topic: str, dnd: Any,
             now: dt.datetime) -> tuple[ColumnElement[Any], ColumnElement[Any], dt.datetime]:
    """(status, last_error, not_before) of a new row as SQL expressions over the 免打扰 column `dnd`: the
    planner's own `slot` for a member not held and one held, chosen per row."""
    free = slot(rule, config, topic, message.expires_at, now, held=False)
    if not rule.held_by_dnd or message.channel not in DND_CHANNELS:
        return literal(free.status), literal(free.reason), free.not_before
    held = slot(rule, config, topic, message.expires_at, now, held=True)
    return (case((dnd, literal(held.status)), else_=literal(free.status)),
            case((dnd, literal(held.reason)), else_=literal(free.reason)), free.not_before)
