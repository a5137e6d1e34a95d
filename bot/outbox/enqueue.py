"""Queueing: every outbound message is one OutboundMessage and one Delivery row per recipient.

`enqueue()` validates the body, looks the message's kind (`topic`) up in bot.outbox.classes (its class and
expiry), is idempotent by `key`, and plans each new recipient (bot.outbox.plan): queued with a `not_before`,
or recorded at once as folded (over the budget), skipped (免打扰) or expired.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import clock, seal
from bot.channels.senders import CHANNELS
from bot.config import Config
from bot.db import dialect_insert, table_of
from bot.message import MAX_TEXT_BYTES
from bot.models import Delivery, OutboundMessage
from bot.outbox import classes
from bot.outbox.classes import DeliveryClass
from bot.outbox.plan import plan

log = logging.getLogger(__name__)

KINDS = ("text", "markdown", "textcard", "template_card")
TEXTCARD_LIMITS = {"title": 128, "description": 512}
IN_CHUNK = 1000  # ids per UPDATE ... IN (...), rows per executemany
# A template card's task_id must be unique within the app (WeCom: digits, letters and "_-@", at most 128
# bytes). The payload carries a base; each send call appends "-<batch>" (1, 2, ... per message).
TASK_ID = re.compile(r"^[A-Za-z0-9_@-]{1,100}$")
ALERT_SENDER = "outbox-alert"


def alert_admins(session: Session, config: Config, channel: str, error: str) -> None:
    """Tell the roster's admins (role `admin`), at most once a day per channel, urgent (quiet hours and the
    daily budget do not hold it back). It goes through WeCom: when WeCom itself is misconfigured the
    alert fails too, and the ERROR log line and the console dashboard remain."""
    from bot import texts
    from bot.models import Member

    admins = [m.userid for m in session.exec(select(Member).where(Member.active, col(Member.roles).contains("admin")))
              if m.has_role("admin")]
    if not admins:
        return
    text = texts.t("outbox.config_alert", channel=channel, error=error[:300])
    enqueue(session, channel="wecom", kind="text", payload={"content": text}, recipients=admins,
            topic="config_alert", key=f"alert:{clock.today().isoformat()}:{channel}", created_by=ALERT_SENDER,
            config=config)


def validate(kind: str, payload: dict[str, Any]) -> None:
    """Raise ValueError for an unknown kind or a body over the platform limits (never truncated)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    if not isinstance(payload, dict):
        raise ValueError("payload must be a dict")
    if kind in ("text", "markdown"):
        content = payload.get("content")
        if not isinstance(content, str) or not content:
            raise ValueError(f"{kind} needs a non-empty 'content'")
        size = len(content.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            raise ValueError(f"{kind} content is {size} bytes, over {MAX_TEXT_BYTES}: send a link instead")
    if kind == "template_card" and "task_id" in payload and not TASK_ID.match(str(payload["task_id"])):
        raise ValueError("template_card task_id: 1-100 of A-Z a-z 0-9 _ - @ (a batch number is appended)")
    if kind == "textcard":
        for name, limit in TEXTCARD_LIMITS.items():
            if len(str(payload.get(name, "")).encode("utf-8")) > limit:
                raise ValueError(f"textcard {name} is over {limit} bytes")


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def prepare(*, channel: str, kind: str, payload: dict[str, Any], topic: str,
            anchor: dt.date | dt.datetime | None, created_by: str | None, config: Config,
            sealed: bool = False) -> dict[str, Any]:
    """The OutboundMessage's fields; raises ValueError for a bad channel/kind, a `topic` with no class or a
    body over the platform limits."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    rule = classes.rule(topic)
    validate(kind, payload)
    expires = classes.expires_at(topic, anchor, config)
    now = clock.now()
    return {
        "channel": channel, "kind": kind, "payload": json.dumps(payload, ensure_ascii=False),
        "urgent": rule.cls is DeliveryClass.URGENT, "reply": rule.cls is DeliveryClass.REPLY,
        "delivery_class": rule.cls.value, "topic": topic,
        "expires_at": expires, "created_at": seal.day_of(now) if sealed else now, "created_by": created_by,
        "sealed": sealed}


def message_for(session: Session, key: str, fields: dict[str, Any]) -> OutboundMessage:
    """The message stored under `key`, created from `fields` when there is none (a concurrent enqueue of
    the same key makes the insert a no-op; the first message's body is kept)."""
    by_key = select(OutboundMessage).where(OutboundMessage.key == key)
    message = session.exec(by_key).first()
    if message is None:
        session.exec(dialect_insert(session, table_of(OutboundMessage)).values(key=key, **fields)
                     .on_conflict_do_nothing(index_elements=["key"]))
        message = session.exec(by_key).one()
    return message


def enqueue(session: Session, *, channel: str, kind: str, payload: dict[str, Any], recipients: list[str],
            topic: str, key: str | None = None, anchor: dt.date | dt.datetime | None = None,
            created_by: str | None = None, config: Config, sealed: bool = False) -> OutboundMessage:
    """Queue one message of kind `topic` (a row of bot.outbox.classes.TABLE: its class and expiry; the
    expiry is computed from `anchor`, the day or the event's start) for many recipients, one Delivery row
    each, in the caller's transaction.

    Idempotent by `key`: a second call with the same key returns the first message (its body unchanged)
    and only adds recipients it does not have yet. Raises ValueError for a bad channel/kind, a `topic`
    with no class, or a text or markdown body over 2048 UTF-8 bytes (send a link instead). `sealed`: a
    message about an anonymous report, whose times are kept to the day (see `enqueue_sealed`)."""
    fields = prepare(channel=channel, kind=kind, payload=payload, topic=topic, anchor=anchor,
                     created_by=created_by, config=config, sealed=sealed)
    wanted = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    now = clock.now()
    stamp = seal.day_of(now) if sealed else now
    present: set[str] = set()
    message: OutboundMessage | None
    if key is None:
        message = OutboundMessage(**fields)
        session.add(message)
        session.flush()
    else:
        message = message_for(session, key, fields)
        present = set(session.exec(select(Delivery.recipient).where(Delivery.message_id == message.id)))
    new = [r for r in wanted if r not in present]
    if new:
        stored = message.topic or topic
        slots = plan(session, config, new, channel=message.channel, topic=stored, rule=classes.rule(stored),
                     expires=message.expires_at, now=now)
        created = seal.day_of(now) if message.sealed else now
        rows = []
        for r in new:
            slot = slots[r]
            # sealed and due now: kept to the day; held by quiet hours: until it is sent
            when = stamp if message.sealed and slot.not_before <= now else slot.not_before
            rows.append({"message_id": message.id, "recipient": r, "status": slot.status, "attempts": 0,
                         "not_before": when, "retry_at": 0.0, "lease_until": 0.0, "last_error": slot.reason,
                         "created_at": created})
        stmt = dialect_insert(session, table_of(Delivery)).on_conflict_do_nothing(
            index_elements=["message_id", "recipient"])
        for chunk in chunks(rows, IN_CHUNK):
            session.exec(stmt, params=list(chunk))
    log.info("enqueued message %s (%s/%s, %s) for %d new recipients", message.id, channel, kind, topic, len(new))
    return message


def requeue(session: Session, delivery_ids: Sequence[int]) -> int:
    """Send failed or expired rows again (the console's retry): attempts start over, and a template card row
    leaves its batch, so it goes under a new task_id (its old batch's id was used up on the platform)."""
    stmt = (update(Delivery).where(col(Delivery.id).in_(list(delivery_ids)),
                                   col(Delivery.status).in_(("failed", "expired")))
            .values(status="queued", attempts=0, retry_at=0.0, lease_until=0.0, worker=None, last_error=None,
                    batch=None, not_before=clock.now())
            .execution_options(synchronize_session=False))
    return int(session.exec(stmt).rowcount)


def enqueue_sealed(session: Session, *, channel: str, text: str, recipient: str, key: str,
                   config: Config, topic: str = "ticket_reply") -> OutboundMessage:
    """A reply-class text to the reporter of an anonymous report. The recipient is stored encrypted under
    `seal_key` (the worker decrypts it to send) and wiped once the delivery is final; the key is an HMAC, so
    nothing ties the row to a ticket; its times are kept to the day. Idempotent by `key`."""
    if classes.rule(topic).cls is not DeliveryClass.REPLY:
        raise ValueError("a message to a sealed reporter is a reply")
    hashed = "sealed:" + seal.keyed_hash(config, key)
    existing = session.exec(select(OutboundMessage).where(OutboundMessage.key == hashed)).first()
    if existing is not None and session.exec(select(Delivery.id).where(Delivery.message_id == existing.id)).first():
        return existing
    return enqueue(session, channel=channel, kind="text", payload={"content": text}, topic=topic,
                   recipients=[seal.encrypt(config, recipient)], key=hashed, config=config, sealed=True)


def status_counts(session: Session) -> dict[str, int]:
    """Delivery rows per status."""
    query = select(Delivery.status, func.count()).group_by(Delivery.status)
    return {status: int(n) for status, n in session.exec(query)}
