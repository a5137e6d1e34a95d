"""Row updates the worker makes: grouped status changes and the sealing of an anonymous report's rows."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import seal
from bot.models import Delivery, OutboundMessage
from bot.outbox.enqueue import IN_CHUNK, chunks

FINAL_STATES = ("sent", "failed", "expired")


def seal_final(session: Session, message: OutboundMessage, rows: list[Any]) -> None:
    """A sealed message's deliveries that reached a final status keep no recipient (when it was the sealed
    reporter) and no time finer than the day."""
    if not message.sealed or not rows:
        return
    ids = [row.id for row in rows]
    final = session.exec(select(Delivery).where(col(Delivery.id).in_(ids), col(Delivery.status).in_(FINAL_STATES)))
    for delivery in final:
        if seal.is_encrypted(delivery.recipient):
            delivery.recipient = ""
        delivery.not_before = seal.day_of(delivery.not_before)
        delivery.sent_at = seal.day_of(delivery.sent_at) if delivery.sent_at else None
        delivery.retry_at, delivery.lease_until = 0.0, 0.0
        session.add(delivery)


def group(by_recipient: dict[str, Any], pairs: Iterable[tuple[str, Any]]) -> Iterable[tuple[Any, list]]:
    groups: dict[Any, list[Any]] = collections.defaultdict(list)
    for recipient, value in pairs:
        if recipient in by_recipient:
            groups[value].append(by_recipient[recipient])
    return groups.items()


def set_rows(session: Session, rows: list[Any], **values: Any) -> None:
    for chunk in chunks([row.id for row in rows], IN_CHUNK):
        session.exec(update(Delivery).where(col(Delivery.id).in_(chunk)).values(**values)
                     .execution_options(synchronize_session=False))

