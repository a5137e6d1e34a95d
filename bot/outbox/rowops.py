"""Row updates the worker makes: grouped status changes and the sealing of an anonymous report's rows."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY
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


# A claimed row; `batch` is filled in when the claim forms a template card's batch.
Claimed = collections.namedtuple("Claimed", ["id", "message_id", "recipient", "attempts", "batch"])


def set_rows(session: Session, rows: Sequence[Any], **values: Any) -> None:
    """One UPDATE per 1,000 rows (on PostgreSQL the ids go as one array: `id = ANY(:ids)`, no statement with
    a thousand parameters to build and parse each time)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in chunks([row.id for row in rows], IN_CHUNK):
        where = (col(Delivery.id) == any_(bindparam("ids", list(chunk), type_=ARRAY(Integer)))) if postgres \
            else col(Delivery.id).in_(chunk)
        session.exec(update(Delivery).where(where).values(**values).execution_options(synchronize_session=False))


def number_batches(session: Session, message_id: int | None, rows: Sequence[Any], size: int,
                   **values: Any) -> list[tuple[int, list[Any]]]:
    """Cut a template card's new rows into batches of `size` numbered on from its message's counter (the
    UPDATE holds the message's row, so two workers never take one number) and store each row's batch
    together with `values`, one UPDATE per batch; [(number, rows)]."""
    pieces = [list(piece) for piece in chunks(list(rows), size)]
    if not pieces:
        return []
    session.exec(update(OutboundMessage).where(col(OutboundMessage.id) == message_id)
                 .values(batches=col(OutboundMessage.batches) + len(pieces)))
    last = session.exec(select(OutboundMessage.batches).where(OutboundMessage.id == message_id)).one()
    result = []
    for number, piece in enumerate(pieces, start=last - len(pieces) + 1):
        set_rows(session, piece, batch=number, **values)
        result.append((number, [Claimed(*row)._replace(batch=number) for row in piece]))
    return result



def lease(session: Session, rows: list[Any], card_size: Callable[[OutboundMessage], int | None],
          **values: Any) -> list[Any]:
    """Store `values` on claimed rows, one UPDATE per 1,000; the new rows of a message sent in batches
    (`card_size` gives its size) get their batch numbers in the same UPDATE (`number_batches`)."""
    fresh = {row.message_id for row in rows if row.batch is None}
    query = select(OutboundMessage).where(col(OutboundMessage.id).in_(fresh))
    sizes: dict[int | None, int] = {m.id: size for m in (session.exec(query) if fresh else [])
                                    if (size := card_size(m)) is not None}
    rest = [row for row in rows if row.batch is not None or row.message_id not in sizes]
    set_rows(session, rest, **values)
    for message_id, size in sizes.items():
        new = [row for row in rows if row.batch is None and row.message_id == message_id]
        rest += [row for _, piece in number_batches(session, message_id, new, size, **values) for row in piece]
    return rest
