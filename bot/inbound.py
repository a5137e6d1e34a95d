"""The inbound pipeline every transport shares (callbacks and `dangjian say`):
dedup → find the member → route → store the reply with the effect, in one transaction.

A retry (same dedup key) never runs the handler again: it gets the stored reply, waiting up to 3 s
for a first delivery still running, else an empty answer. Handling that outlasts `[app] reply_timeout`
answers empty at once and pushes the reply through the outbox when it is ready.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import logging
import time
from dataclasses import replace
from typing import Any

import redis as redis_lib
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import clock, texts
from bot.message import InboundMessage, Reply
from bot.models import InboundMessage as InboundRow
from bot.models import Member
from bot.router import Context, Router
from bot.runtime import Runtime
from bot.seal import day_of as seal_day

log = logging.getLogger(__name__)

RETRY_WAIT = 3.0
DEDUP_TTL = 24 * 3600
ANONYMOUS_PREFIXES = ("匿名反映",)


def seal(config: Any, sender: str) -> str:
    """An opaque reference to an anonymous reporter: replies can reach them, nobody can read who.
    The same for a userid in any case (the roster stores userids lower-case)."""
    key = config.app.secret_key.encode()
    return "sealed:" + hmac.new(key, sender.lower().encode(), hashlib.sha256).hexdigest()[:32]


def stored_key(msg: InboundMessage) -> str:
    """The dedup key as stored: a hash, so the log's unique key holds no userid (see `dangjian forget`)."""
    return hashlib.sha256(msg.dedup_key().encode()).hexdigest()


def find_member(session, msg: InboundMessage) -> Member | None:
    if msg.channel == "wechat":
        stmt = select(Member).where(Member.openid == msg.sender)
    else:
        stmt = select(Member).where(Member.userid == msg.sender.lower())
    member = session.exec(stmt).first()
    return member if member is not None and member.active else None


def _executor(runtime: Runtime) -> concurrent.futures.ThreadPoolExecutor:
    pool = runtime.extras.get("inbound_pool")
    if pool is None:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="inbound")
        runtime.extras["inbound_pool"] = pool
    return pool


def _redis_claim(runtime: Runtime, key: str) -> bool:
    """True when this delivery is the first one Redis has seen (or Redis is off / down)."""
    if runtime.redis is None:
        return True
    name = f"{runtime.config.redis.prefix}inbound:{key}"
    try:
        return bool(runtime.redis.set(name, "1", nx=True, ex=DEDUP_TTL))
    except redis_lib.RedisError as exc:
        log.warning("redis dedup unavailable, relying on the database: %s", exc)
        return True


def _record(runtime: Runtime, msg: InboundMessage) -> int | None:
    """Insert the log row; None when the unique dedup key says we have seen it (a retry)."""
    sender = msg.sender
    if msg.text.startswith(ANONYMOUS_PREFIXES):
        sender = seal(runtime.config, msg.sender)
    row = InboundRow(dedup_key=stored_key(msg), channel=msg.channel, sender=sender[:128],
                     msg_type=msg.msg_type, content=msg.text or msg.event_key, status="processing",
                     received_at=clock.now())
    try:
        with runtime.session() as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def _exists(runtime: Runtime, key: str) -> bool:
    with runtime.session() as session:
        return session.exec(select(InboundRow.id).where(InboundRow.dedup_key == key)).first() is not None


def _take_over_failed(runtime: Runtime, key: str) -> int | None:
    """A first delivery that failed (nothing applied) may be handled again by its retry."""
    with runtime.write() as session:
        row = session.exec(select(InboundRow).where(InboundRow.dedup_key == key)).first()
        if row is not None and row.status == "failed":
            row.status = "processing"
            session.add(row)
            return row.id
    return None


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


def process(runtime: Runtime, router: Router, msg: InboundMessage, row_id: int | None) -> Reply:
    """Route the message; the handler's effects and the stored reply commit together."""
    try:
        with runtime.session() as session:
            member = find_member(session, msg)
            ctx = Context(runtime=runtime, session=session, message=msg, member=member, router=router)
            reply = router.dispatch(ctx)
            if row_id is not None:
                row = session.get(InboundRow, row_id)
                if row is not None:
                    row.status, row.reply, row.finished_at = "done", reply.dumps(), clock.now()
                    if ctx.sealed:  # about an anonymous report: no sender, no text, no time finer than the day
                        row.sender, row.content, row.reply = "", "", None
                        row.received_at, row.finished_at = seal_day(row.received_at), seal_day()
                    session.add(row)
            return replace(reply, sealed=True) if ctx.sealed else reply
    except Exception:
        log.exception("handling inbound row %s failed", row_id)
        if row_id is not None:
            with runtime.session() as session:
                row = session.get(InboundRow, row_id)
                if row is not None:
                    row.status, row.finished_at = "failed", clock.now()
                    session.add(row)
        return Reply(texts.t("error.busy"))


def _push_late(runtime: Runtime, msg: InboundMessage, row_id: int | None,
               future: concurrent.futures.Future[Reply]) -> None:
    from bot import outbox

    try:
        reply = future.result()
    except Exception:  # process() already logs and answers; this guards the callback thread
        log.exception("late reply for inbound row %s lost", row_id)
        return
    if reply.empty or not reply.text:
        return
    text = reply.text
    channel = "wechat" if msg.channel == "wechat" else "wecom"
    with runtime.session() as session:
        if reply.sealed or msg.text.startswith(ANONYMOUS_PREFIXES):  # recipient encrypted, key an HMAC
            outbox.enqueue_sealed(session, channel=channel, text=texts.t("anonymous.late_reply"),
                                  recipient=msg.sender, key=f"reply:{row_id or stored_key(msg)}", config=runtime.config)
        else:
            outbox.enqueue(session, channel=channel, kind="text", payload={"content": text},
                           recipients=[msg.sender], key=f"reply:{row_id or stored_key(msg)}", reply=True,
                           config=runtime.config)
        if row_id is not None:
            row = session.get(InboundRow, row_id)
            if row is not None:
                row.status = "pushed"
                session.add(row)
    log.info("reply to inbound row %s pushed through the outbox after the callback timed out", row_id)


def handle(runtime: Runtime, router: Router, msg: InboundMessage, timeout: float | None = None) -> Reply | None:
    """The reply to answer now, or None for an empty 200 (retry still running, or handling too slow)."""
    key = stored_key(msg)
    # Redis answers "seen before" cheaply; the database's unique key is the authority either way.
    if not _redis_claim(runtime, key) and _exists(runtime, key):
        row_id = None
    else:
        row_id = _record(runtime, msg)
    if row_id is None:
        row_id = _take_over_failed(runtime, key)
        if row_id is None:
            return _wait_for_reply(runtime, key)
    if timeout is None:
        return process(runtime, router, msg, row_id)
    future = _executor(runtime).submit(process, runtime, router, msg, row_id)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.add_done_callback(lambda f: _push_late(runtime, msg, row_id, f))
        return None
