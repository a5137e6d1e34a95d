"""The life of an inbound row: recorded with a lease, taken over when the lease runs out, finished.

A row being processed holds the whole message (sender encrypted under `seal_key`, see bot/spool.encode)
and a lease (wall clock, `[app] inbound_lease_seconds`) with an attempt number; the handler transaction
commits only while its attempt still holds the row (see bot/inbound.process). A finished row keeps no
sender, no message and no text; one about an anonymous report keeps no time finer than the day either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from bot import clock, db, spool
from bot import seal as seals
from bot.message import InboundMessage, Reply
from bot.models import InboundMessage as InboundRow
from bot.runtime import Runtime

log = logging.getLogger(__name__)

def stored_key(msg: InboundMessage) -> str:
    """The dedup key as stored: a hash, so the log's unique key holds no userid (see `dangjian forget`)."""
    return hashlib.sha256(msg.dedup_key().encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Claim:
    """The right to handle one inbound row: attempt `attempt` of row `row_id`, received at `received_at`."""

    row_id: int
    attempt: int
    received_at: dt.datetime


def lease_until(runtime: Runtime) -> float:
    return clock.wall() + runtime.config.app.inbound_lease_seconds


def record(runtime: Runtime, msg: InboundMessage, received_at: dt.datetime | None = None) -> Claim | None:
    """Insert the row (attempt 1, leased); None when the unique dedup key says we have seen it."""
    received = received_at or clock.now()

    def insert() -> Claim | None:
        row = InboundRow(dedup_key=stored_key(msg), channel=msg.channel,
                         sender=seals.encrypt(runtime.config, msg.sender), msg_type=msg.msg_type,
                         content=msg.text or msg.event_key, status="processing", received_at=received,
                         payload=spool.encode(runtime.config, msg, received), lease_until=lease_until(runtime),
                         attempts=1)
        try:
            with runtime.session() as session:
                if runtime.is_postgres:
                    # The claim need not wait for its own fsync: the handler's transaction commits synchronously
                    # and flushes the WAL up to it; if the server crashed first, the callback had not answered
                    # and the platform's retry records the message again. (One fsync per message saved.)
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                session.add(row)
                session.flush()
                assert row.id is not None
                return Claim(row.id, 1, received)
        except IntegrityError:
            return None

    return db.retry_locked(insert)


def take_over(runtime: Runtime, where: Any,
              msg: InboundMessage | None = None) -> tuple[Claim, str | None] | None:
    """Claim a row whose lease ran out (its process died or hung), or, for a retry bringing the message
    again (`msg`), one whose handling failed. A row whose handler transaction is still open is locked
    (skipped on PostgreSQL; on SQLite the write lock waits for it) and never taken. `where` picks the row
    (a SQL condition on InboundRow). Returns the claim and the stored message (payload), or None."""

    def takeable(row: InboundRow | None, wall: float) -> bool:
        if row is None:
            return False
        return (row.status == "processing" and row.lease_until < wall) or (row.status == "failed" and msg is not None)

    def attempt() -> tuple[Claim, str | None] | None:
        wall = clock.wall()
        with runtime.session() as session:  # a plain read first: a live handler's write lock is not waited for
            if not takeable(session.exec(select(InboundRow).where(where)).first(), wall):
                return None
        with runtime.write() as session:
            query = select(InboundRow).where(where)
            if runtime.is_postgres:
                query = query.with_for_update(skip_locked=True)
            row = session.exec(query).first()
            if row is None or not takeable(row, wall):
                return None
            if msg is not None:
                if row.status == "failed":
                    row.received_at = clock.now()
                row.sender = seals.encrypt(runtime.config, msg.sender)
                row.payload = spool.encode(runtime.config, msg, row.received_at or clock.now())
            row.status, row.attempts = "processing", row.attempts + 1
            row.lease_until = wall + runtime.config.app.inbound_lease_seconds
            session.add(row)
            assert row.id is not None
            log.info("inbound row %s taken over (attempt %s)", row.id, row.attempts)
            return Claim(row.id, row.attempts, row.received_at or clock.now()), row.payload

    return db.retry_locked(attempt)


def finish(row: InboundRow, status: str, reply: Reply | None, sealed: bool) -> None:
    """The row's final state: no sender, no stored message and none of the member's words (an event keeps
    its key), so `forget` has nothing left to find; sealed: no content at all and dates to the day."""
    now = clock.now()
    row.status, row.finished_at = status, now
    row.reply = reply.dumps() if status == "done" and reply is not None else None
    row.sender, row.payload, row.lease_until = "", None, 0.0
    if sealed or row.msg_type != "event":
        row.content = ""
    if sealed:
        row.received_at = seals.day_of(row.received_at or now)
        row.finished_at = seals.day_of(now)


def mark_failed(runtime: Runtime, claim: Claim, sealed: bool) -> None:
    def attempt() -> None:
        with clock.as_of(claim.received_at), runtime.write() as session:
            row = session.get(InboundRow, claim.row_id)
            if row is not None and row.status == "processing" and row.attempts == claim.attempt:
                finish(row, "failed", None, sealed)
                session.add(row)

    try:
        db.retry_locked(attempt)
    except SQLAlchemyError:
        log.exception("inbound row %s: could not record the failure (its lease will run out)", claim.row_id)


def give_up(runtime: Runtime, claim: Claim, why: str, sealed: Callable[[str], bool]) -> None:
    """A row that cannot be re-run (unreadable, or it failed too often): failed, wiped, logged. `sealed` says
    whether its text is an anonymous command (Router.is_anonymous)."""
    with runtime.write() as session:
        row = session.get(InboundRow, claim.row_id)
        if row is not None and row.attempts == claim.attempt:
            finish(row, "failed", None, sealed=sealed(row.content or ""))
            session.add(row)
    log.error("inbound row %s given up after attempt %s: %s", claim.row_id, claim.attempt, why)
