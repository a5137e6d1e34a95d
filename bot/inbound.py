"""The inbound pipeline every transport shares (callbacks and `dangjian say`):
dedup → lease the row → find the member → route → store the reply with the effect, in one transaction.

A row being processed holds the whole message and a lease (bot/inbound_lease.py). Its handler
transaction locks the row (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and commits only while
its attempt still holds the row, so a
message has its effect once even when a process dies mid-way: a retry after the lease (or the worker's
recovery pass, bot/inbound_recovery.py) takes the row over and runs it again, dated by the time it was
received. A retry while the first delivery runs gets the stored reply, waiting up to 3 s, else an empty
answer. Handling that outlasts `[app] reply_timeout` answers empty at once and pushes the reply through
the outbox. When the database is unreachable the message goes to the local spool (bot/spool.py) and the
member is told it will be answered later.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any

import redis as redis_lib
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from bot import clock, db, inbound_lease, spool, texts
from bot.inbound_lease import Claim, record, stored_key, take_over
from bot.message import InboundMessage, Reply
from bot.models import InboundMessage as InboundRow
from bot.models import Member
from bot.router import Context, Router
from bot.runtime import Runtime

__all__ = ["Claim", "Outcome", "handle", "process", "record", "stored_key", "take_over"]

log = logging.getLogger(__name__)

RETRY_WAIT = 3.0
DEDUP_TTL = 24 * 3600
MAX_ATTEMPTS = 3  # a message whose handling kills its process this often is given up (status failed)


def sender_is(msg: InboundMessage) -> Any:
    """The condition on Member that finds the message's sender (openid on the Official Account)."""
    return Member.openid == msg.sender if msg.channel == "wechat" else Member.userid == msg.sender.lower()


@dataclasses.dataclass(frozen=True)
class Outcome:
    """done: `reply` is stored for retries; pushed: it went to the outbox; failed: nothing applied;
    superseded: another process holds the message now; unavailable: the database could not be reached."""

    status: str
    reply: Reply = dataclasses.field(default_factory=Reply)
    sealed: bool = False


def executor(runtime: Runtime) -> concurrent.futures.ThreadPoolExecutor:
    pool = runtime.extras.get("inbound_pool")
    if pool is None:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="inbound")
        runtime.extras["inbound_pool"] = pool
    return pool


def _redis_claim(runtime: Runtime, key: str) -> bool:
    """True when this delivery is the first one Redis has seen (or Redis is off / down)."""
    client = runtime.live_redis()
    if client is None:
        return True
    name = f"{runtime.config.redis.prefix}inbound:{key}"
    try:
        return bool(client.set(name, "1", nx=True, ex=DEDUP_TTL))
    except redis_lib.RedisError as exc:
        runtime.redis_failed("inbound dedup", exc)  # skipped for a while: the database's key decides
        return True


def enqueue_reply(runtime: Runtime, session, msg: InboundMessage, row_id: int, text: str,
                  sealed: bool) -> None:
    """Push a reply through the outbox (a reply class message: no quiet hours, no budget)."""
    from bot import outbox

    if not text:
        return
    channel = "wechat" if msg.channel == "wechat" else "wecom"
    if sealed:  # recipient encrypted until sent, key an HMAC, generic text: nothing ties the row to the report
        outbox.enqueue_sealed(session, channel=channel, text=texts.t("anonymous.late_reply"), recipient=msg.sender,
                              key=f"reply:{row_id}", config=runtime.config, topic="late_reply")
        return
    outbox.enqueue(session, channel=channel, kind="text", payload={"content": text}, recipients=[msg.sender],
                   key=f"reply:{row_id}", topic="reply", config=runtime.config)


def process(runtime: Runtime, router: Router, msg: InboundMessage, claim: Claim,
            push: threading.Event | None = None) -> Outcome:
    """Route the message as of its receipt; the effects and the row's new state commit together, and
    only while `claim` still holds the row. With `push` set by commit time the reply goes to the outbox."""

    def attempt() -> Outcome:
        with clock.as_of(claim.received_at), runtime.write() as session:
            # the row (locked) and the sender's member in one statement
            query = (select(InboundRow, Member).outerjoin(Member, sender_is(msg))
                     .where(InboundRow.id == claim.row_id))
            if runtime.is_postgres:
                query = query.with_for_update(of=InboundRow)
            row, member = session.exec(query).first() or (None, None)
            if row is None or row.status != "processing" or row.attempts != claim.attempt:
                return Outcome("superseded")
            member = member if member is not None and member.active else None
            ctx = Context(runtime=runtime, session=session, message=msg, member=member, router=router)
            reply = router.dispatch(ctx)
            sealed = ctx.sealed or router.is_anonymous(msg.text)  # the route's flag (匿名反映), or the handler
            status = "pushed" if push is not None and push.is_set() else "done"
            if status == "pushed":
                enqueue_reply(runtime, session, msg, claim.row_id, reply.text, sealed)
            inbound_lease.finish(row, status, reply, sealed)
            session.add(row)
            return Outcome(status, reply, sealed)

    try:
        return db.retry_locked(attempt)
    except Exception as exc:
        if db.is_unavailable(exc):
            log.warning("database unavailable while handling inbound row %s: %s", claim.row_id,
                        type(exc).__name__)
            return Outcome("unavailable")
        log.exception("handling inbound row %s failed", claim.row_id)
        sealed = router.is_anonymous(msg.text)  # the handler did not finish: the route's flag alone
        inbound_lease.mark_failed(runtime, claim, sealed)
        return Outcome("failed", Reply(texts.t("error.busy")), sealed)


def finish_late(runtime: Runtime, router: Router, msg: InboundMessage, claim: Claim) -> Outcome:
    """Handle a message nobody is waiting for (a re-run, a spooled message): the reply, or the failure
    notice, goes through the outbox."""
    outcome = process(runtime, router, msg, claim, push=_ALWAYS)
    if outcome.status == "failed":
        push_text(runtime, msg, claim, outcome.reply.text, outcome.sealed)
    return outcome


_ALWAYS = threading.Event()
_ALWAYS.set()


def push_text(runtime: Runtime, msg: InboundMessage, claim: Claim, text: str, sealed: bool,
               mark_pushed: bool = False) -> None:
    try:
        with clock.as_of(claim.received_at), runtime.write() as session:
            if mark_pushed:
                row = session.get(InboundRow, claim.row_id)
                if row is None or row.status != "done":
                    return
                row.status, row.reply = "pushed", None
                session.add(row)
            enqueue_reply(runtime, session, msg, claim.row_id, text, sealed)
    except SQLAlchemyError:
        log.exception("the reply to inbound row %s could not be queued", claim.row_id)
        return
    log.info("reply to inbound row %s pushed through the outbox", claim.row_id)


def _after_late(runtime: Runtime, msg: InboundMessage, claim: Claim, outcome: Outcome) -> None:
    """The callback already answered empty: make sure the member still hears back."""
    if outcome.status == "done":  # committed just before the push flag was set
        push_text(runtime, msg, claim, outcome.reply.text, outcome.sealed, mark_pushed=True)
    elif outcome.status == "failed":
        push_text(runtime, msg, claim, outcome.reply.text, outcome.sealed)
    elif outcome.status == "unavailable":
        try:
            spool.accept(runtime.config, msg, claim.received_at)
        except spool.SpoolFull:
            log.exception("inbound row %s: neither database nor spool took it", claim.row_id)


def _exists(runtime: Runtime, key: str) -> bool:
    with runtime.session() as session:
        return session.exec(select(InboundRow.id).where(InboundRow.dedup_key == key)).first() is not None


def _wait_for_reply(runtime: Runtime, key: str, timeout: float = RETRY_WAIT) -> Reply | None:
    deadline = clock.monotonic() + timeout
    while True:
        with runtime.session() as session:
            row = session.exec(select(InboundRow).where(InboundRow.dedup_key == key)).first()
            if row is not None and row.status in ("done", "pushed"):
                return Reply.loads(row.reply) if row.status == "done" else None
        if clock.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _spool(runtime: Runtime, msg: InboundMessage, received_at: dt.datetime) -> Reply:
    """The database is unreachable: keep the message on local disk (SpoolFull propagates: 503)."""
    spool.accept(runtime.config, msg, received_at)
    return Reply(texts.t("inbound.accepted"))


def _claim(runtime: Runtime, msg: InboundMessage, key: str) -> Claim | None:
    # Redis answers "seen before" cheaply; the database's unique key is the authority either way. On SQLite
    # a retry reads first: its INSERT would wait for the write lock the first delivery's handler holds.
    seen = not _redis_claim(runtime, key) or not runtime.is_postgres
    claim = None if seen and _exists(runtime, key) else record(runtime, msg)
    if claim is None:
        taken = take_over(runtime, InboundRow.dedup_key == key, msg)
        claim = taken[0] if taken else None
    return claim


def _answer(runtime: Runtime, key: str, msg: InboundMessage, claim: Claim, outcome: Outcome) -> Reply | None:
    if outcome.status == "superseded":
        return _wait_for_reply(runtime, key)
    if outcome.status == "unavailable":
        return _spool(runtime, msg, claim.received_at)
    return outcome.reply


class _Handoff:
    """Who answers the member: the callback, if the pipeline is done in time, else the pipeline itself
    (the callback answered empty): decided once, under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gone = threading.Event()  # the callback answered empty: the reply goes through the outbox
        self.answered = False


def _run(runtime: Runtime, router: Router, msg: InboundMessage, received_at: dt.datetime,
         handoff: _Handoff | None) -> Reply | None:
    from bot import inbound_recovery

    key = stored_key(msg)
    gone = handoff.gone if handoff is not None else None
    try:
        claim = _claim(runtime, msg, key)
        if claim is None:  # a retry: the first delivery's reply, if the callback still waits
            return None if gone is not None and gone.is_set() else _wait_for_reply(runtime, key)
    except SQLAlchemyError as exc:
        if not db.is_unavailable(exc):
            raise
        log.warning("database unavailable for a callback: %s", type(exc).__name__)
        try:
            return _spool(runtime, msg, received_at)
        except spool.SpoolFull:
            if gone is None or not gone.is_set():
                raise
            log.exception("a callback nobody waits for any more was neither stored nor spooled")
            return None
    inbound_recovery.kick(runtime, router)
    outcome = process(runtime, router, msg, claim, gone)
    if handoff is not None:
        with handoff.lock:
            if handoff.gone.is_set():
                _after_late(runtime, msg, claim, outcome)
                return None
            handoff.answered = True
    try:
        return _answer(runtime, key, msg, claim, outcome)
    except SQLAlchemyError as exc:
        if not db.is_unavailable(exc):
            raise
        return _spool(runtime, msg, received_at)


def handle(runtime: Runtime, router: Router, msg: InboundMessage, timeout: float | None = None) -> Reply | None:
    """The reply to answer now, or None for an empty 200 (retry still running, or handling too slow).
    With `timeout`, everything (the database included) runs in the pool: the callback answers in time
    even when SQLite's write lock or a dead database server makes it wait. Raises spool.SpoolFull when
    the database is unreachable and the spool cannot take the message (the callback answers 503)."""
    received_at = clock.now()
    if timeout is None:
        return _run(runtime, router, msg, received_at, None)
    handoff = _Handoff()
    future = executor(runtime).submit(_run, runtime, router, msg, received_at, handoff)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        with handoff.lock:
            if not handoff.answered:
                handoff.gone.set()
                return None
        return future.result()
