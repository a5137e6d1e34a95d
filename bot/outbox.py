"""The outbox: every outbound message is one OutboundMessage and one Delivery row per recipient.

`enqueue()` validates the body, is idempotent by `key`, and gives each new recipient a `not_before`
(business time) that honours `[delivery] quiet_hours` and `daily_budget`. `Worker` claims due rows
(SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), sends them in batches of at most `batch_size`
recipients per API call, and records the outcome: sent, failed (configuration errors also alert the
admins through the audit log), or queued again with exponential backoff.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, false, func, or_, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot import clock, seal
from bot.channels.senders import (
    CHANNELS,
    SEND_EXCEPTIONS,
    NotAttempted,
    SendError,
    SendResult,
    classify,
    sender_for,
)
from bot.config import Config
from bot.db import table_of
from bot.message import MAX_TEXT_BYTES
from bot.models import AuditLog, Delivery, OutboundMessage
from bot.runtime import Runtime

log = logging.getLogger(__name__)

KINDS = ("text", "markdown", "textcard", "template_card")
TEXTCARD_LIMITS = {"title": 128, "description": 512}
IN_CHUNK = 1000  # ids per UPDATE ... IN (...), rows per executemany
SMALL_IN = 200  # up to this many recipients the budget count filters by IN (...)
BUDGET_DAYS = 31  # how far ahead the daily budget looks for a free day
OPEN_STATUSES = ("queued", "sending", "sent")
UNSENT_STATUSES = ("queued", "sending")
# A template card's task_id must be unique within the app (WeCom: digits, letters and "_-@", at most 128
# bytes). The payload carries a base; each send call appends "-<batch>" (1, 2, ... per message).
TASK_ID = re.compile(r"^[A-Za-z0-9_@-]{1,100}$")
FINAL_STATES = ("sent", "failed", "expired")


ALERT_SENDER = "outbox-alert"
# sqlalchemy's select: sqlmodel's is typed for at most four columns (run with session.execute)
CLAIM_SELECT = sa_select(col(Delivery.id), col(Delivery.message_id), col(Delivery.recipient), col(Delivery.attempts),
                         col(Delivery.batch))


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
            key=f"alert:{clock.today().isoformat()}:{channel}", urgent=True, created_by=ALERT_SENDER,
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


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert(session: Session, table: Any) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def quiet_end(moment: dt.datetime, window: tuple[dt.time, dt.time] | None) -> dt.datetime:
    """`moment` itself outside quiet hours, else the end of the quiet period it falls in (the window may
    cross midnight: 21:30-07:00)."""
    if window is None or window[0] == window[1]:
        return moment
    start, end = window
    local = clock.local(moment)
    t, day = local.time(), local.date()
    if start < end:
        return clock.at(day, end) if start <= t < end else moment
    if t >= start:
        return clock.at(day + dt.timedelta(days=1), end)
    return clock.at(day, end) if t < end else moment


def _pushed_counts(session: Session, recipients: Sequence[str], day: dt.date) -> dict[str, int]:
    """Budgeted deliveries (non-urgent, non-reply, not robot, not failed) per recipient on a local day.

    Few recipients: filtered by an IN list. Many: one grouped count over the whole day, filtered here (a
    day holds about members x budget rows; huge IN lists get pathological plans once psycopg prepares)."""
    lo = clock.at(day, dt.time(0))
    hi = clock.at(day + dt.timedelta(days=1), dt.time(0))
    query = (select(Delivery.recipient, func.count())
             .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
             .where(col(Delivery.not_before) >= lo, col(Delivery.not_before) < hi,
                    col(Delivery.status).in_(OPEN_STATUSES),
                    OutboundMessage.urgent == false(), OutboundMessage.reply == false(),
                    OutboundMessage.channel != "robot")
             .group_by(Delivery.recipient))
    if len(recipients) <= SMALL_IN:
        query = query.where(col(Delivery.recipient).in_(list(recipients)))
    wanted = set(recipients)
    return {recipient: int(n) for recipient, n in session.exec(query) if recipient in wanted}


def plan(session: Session, config: Config, recipients: Sequence[str], *, channel: str, exempt: bool,
         now: dt.datetime) -> dict[str, dt.datetime]:
    """`not_before` per recipient. Urgent messages and replies (`exempt`) go now. Others wait for the end
    of quiet hours, and a recipient who already has `daily_budget` budgeted deliveries that day moves to
    the next day's first moment outside quiet hours (daily_budget 0: no budget; robots: no budget)."""
    if exempt:
        return dict.fromkeys(recipients, now)
    window = config.delivery.quiet_window()
    first = quiet_end(now, window)
    budget = config.delivery.daily_budget
    if budget <= 0 or channel == "robot":
        return dict.fromkeys(recipients, first)
    result: dict[str, dt.datetime] = {}
    pending, day = list(recipients), clock.local(first).date()
    for _ in range(BUDGET_DAYS):
        counts = _pushed_counts(session, pending, day)
        result.update({r: first for r in pending if counts.get(r, 0) < budget})
        pending = [r for r in pending if counts.get(r, 0) >= budget]
        if not pending:
            break
        day += dt.timedelta(days=1)
        first = quiet_end(clock.at(day, dt.time(0)), window)
    result.update(dict.fromkeys(pending, first))
    return result


def enqueue(session: Session, *, channel: str, kind: str, payload: dict[str, Any], recipients: list[str],
            key: str | None = None, urgent: bool = False, reply: bool = False,
            expires_at: dt.datetime | None = None, created_by: str | None = None,
            config: Config, sealed: bool = False) -> OutboundMessage:
    """Queue one message for many recipients (one Delivery row each) in the caller's transaction.

    Idempotent by `key`: a second call with the same key returns the first message (its body unchanged)
    and only adds recipients it does not have yet. Raises ValueError for a bad channel/kind or a text or
    markdown body over 2048 UTF-8 bytes (send a link instead). `sealed`: a message about an anonymous report,
    whose times are kept to the day (see `enqueue_sealed` for one to the sealed reporter)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    validate(kind, payload)
    wanted = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    now = clock.now()
    stamp = seal.day_of(now) if sealed else now
    fields: dict[str, Any] = {
        "channel": channel, "kind": kind, "payload": json.dumps(payload, ensure_ascii=False), "urgent": urgent,
        "reply": reply, "expires_at": expires_at, "created_at": stamp, "created_by": created_by, "sealed": sealed}
    present: set[str] = set()
    message: OutboundMessage | None
    if key is None:
        message = OutboundMessage(**fields)
        session.add(message)
        session.flush()
    else:
        by_key = select(OutboundMessage).where(OutboundMessage.key == key)
        message = session.exec(by_key).first()
        if message is None:  # a concurrent enqueue of the same key makes this insert a no-op
            session.exec(_insert(session, table_of(OutboundMessage)).values(key=key, **fields)
                         .on_conflict_do_nothing(index_elements=["key"]))
            message = session.exec(by_key).one()
        present = set(session.exec(select(Delivery.recipient).where(Delivery.message_id == message.id)))
    new = [r for r in wanted if r not in present]
    if new:
        not_before = plan(session, config, new, channel=message.channel,
                          exempt=message.urgent or message.reply, now=now)
        if message.sealed:  # due now: kept to the day; held by quiet hours or the budget: until it is sent
            not_before = {r: stamp if t <= now else t for r, t in not_before.items()}
        rows = [{"message_id": message.id, "recipient": r, "status": "queued", "attempts": 0,
                 "not_before": not_before[r], "retry_at": 0.0, "lease_until": 0.0,
                 "created_at": seal.day_of(now) if message.sealed else now}
                for r in new]
        stmt = _insert(session, table_of(Delivery)).on_conflict_do_nothing(
            index_elements=["message_id", "recipient"])
        for chunk in _chunks(rows, IN_CHUNK):
            session.exec(stmt, params=list(chunk))
    log.info("enqueued message %s (%s/%s) for %d new recipients", message.id, channel, kind, len(new))
    return message


def batched(message: OutboundMessage) -> bool:
    """A WeCom template card is sent in batches that keep their recipients and task_id for good."""
    return message.channel == "wecom" and message.kind == "template_card"


def with_task_id(payload: dict[str, Any], batch: int | None) -> dict[str, Any]:
    """The body of one send call: a template card's task_id gets its batch number (`study-D-<batch>`)."""
    if batch is None or not payload.get("task_id"):
        return payload
    return {**payload, "task_id": f"{payload['task_id']}-{batch}"}


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
                   config: Config) -> OutboundMessage:
    """A reply-class text to the reporter of an anonymous report. The recipient is stored encrypted under
    `seal_key` (the worker decrypts it to send) and wiped once the delivery is final; the key is an HMAC, so
    nothing ties the row to a ticket; its times are kept to the day. Idempotent by `key`."""
    hashed = "sealed:" + seal.keyed_hash(config, key)
    existing = session.exec(select(OutboundMessage).where(OutboundMessage.key == hashed)).first()
    if existing is not None and session.exec(select(Delivery.id).where(Delivery.message_id == existing.id)).first():
        return existing
    return enqueue(session, channel=channel, kind="text", payload={"content": text},
                   recipients=[seal.encrypt(config, recipient)], key=hashed, reply=True, config=config, sealed=True)


def status_counts(session: Session) -> dict[str, int]:
    """Delivery rows per status."""
    query = select(Delivery.status, func.count()).group_by(Delivery.status)
    return {status: int(n) for status, n in session.exec(query)}


class Worker:
    """Claims due delivery rows and sends them: one API call per message and batch of recipients.

    Several workers may run at once (PostgreSQL): a claimed row is `sending` with this worker's id and a
    lease (`[delivery] lease_seconds`, wall clock); a worker that dies leaves rows whose lease runs out and
    another worker claims them again (the platform's duplicate check drops the resent batch; a template
    card's batch keeps its recipients and task_id, and its resend is refused as "task id exists")."""

    def __init__(self, runtime: Runtime, worker_id: str) -> None:
        self.rt = runtime
        self.worker_id = worker_id[:64]
        self.cfg = runtime.config.delivery
        self.stats: collections.Counter[str] = collections.Counter()

    def run(self, stop: threading.Event) -> None:
        """Send until `stop` is set, sleeping `[delivery] poll_seconds` when nothing is due."""
        log.info("outbox worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                handled = self.run_once()
            except SQLAlchemyError:
                log.exception("outbox round failed; retrying in %s s", self.cfg.poll_seconds)
                handled = 0
            if not handled:
                stop.wait(self.cfg.poll_seconds)
        log.info("outbox worker %s stopped: %s", self.worker_id, self.summary())

    def summary(self) -> str:
        """`sent=N failed=N expired=N retried=N waiting=N`: what this worker did so far."""
        return " ".join(f"{k}={self.stats[k]}" for k in ("sent", "failed", "expired", "retried", "waiting"))

    def drain(self) -> collections.Counter[str]:
        """Run rounds until nothing is due; returns the counts of what this worker did."""
        while self.run_once():
            pass
        return self.stats

    def run_once(self) -> int:
        """Claim one round of due rows and send them; the number of rows handled."""
        rows = self._claim()
        if not rows:
            return 0
        started = clock.monotonic()
        by_message: dict[int, list[Any]] = collections.defaultdict(list)
        for row in rows:
            by_message[row.message_id].append(row)
        with self.rt.session() as session:
            messages = session.exec(select(OutboundMessage).where(col(OutboundMessage.id).in_(list(by_message))))
            by_id = {m.id: m for m in messages}
        batches: list[tuple[OutboundMessage, Sequence[Any], int | None]] = []
        for message_id, message_rows in by_message.items():
            message = by_id[message_id]
            size = min(self.cfg.batch_size, sender_for(self.rt, message.channel).batch_size)
            if batched(message):
                batches.extend(self._batches(message, message_rows, size))
            else:
                batches.extend((message, chunk, None) for chunk in _chunks(message_rows, size))
        for index, (message, chunk, batch) in enumerate(batches):
            if clock.monotonic() - started > self.cfg.lease_seconds / 2:
                self._release([row for _, rest, _ in batches[index:] for row in rest])
                break
            self._deliver(message, list(chunk), batch)
        return len(rows)

    def _batches(self, message: OutboundMessage, rows: list[Any],
                 size: int) -> list[tuple[OutboundMessage, Sequence[Any], int | None]]:
        """Rows already in a batch (a resend: retry, or a dead worker's lease ran out) go as that batch;
        new rows are cut into batches numbered on from the message's counter (the UPDATE holds its row, so
        two workers never take one number), stored before anything is sent."""
        known: dict[int, list[Any]] = collections.defaultdict(list)
        fresh: list[Any] = []
        for row in rows:
            (known[row.batch] if row.batch is not None else fresh).append(row)
        result: list[tuple[OutboundMessage, Sequence[Any], int | None]] = [
            (message, group, number) for number, group in known.items()]
        chunks = list(_chunks(fresh, size))
        if chunks:
            with self.rt.write() as session:
                session.exec(update(OutboundMessage).where(col(OutboundMessage.id) == message.id)
                             .values(batches=col(OutboundMessage.batches) + len(chunks)))
                last = session.exec(select(OutboundMessage.batches).where(OutboundMessage.id == message.id)).one()
                for number, chunk in enumerate(chunks, start=last - len(chunks) + 1):
                    self._set(session, list(chunk), batch=number)
                    result.append((message, chunk, number))
        return result

    def _claim(self) -> list[Any]:
        now, wall = clock.now(), clock.wall()
        due = or_(
            and_(col(Delivery.status) == "queued",
                 or_(col(Delivery.not_before).is_(None), col(Delivery.not_before) <= now),
                 col(Delivery.retry_at) <= wall),
            and_(col(Delivery.status) == "sending", col(Delivery.lease_until) < wall),
        )
        query = CLAIM_SELECT.where(due).order_by(col(Delivery.id)).limit(self.cfg.batch_size)
        if self.rt.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self.rt.write() as session:
            rows = self._whole_batches(session, list(session.execute(query)), due)
            if rows:
                session.exec(update(Delivery).where(col(Delivery.id).in_([r.id for r in rows]))
                             .values(status="sending", lease_until=wall + self.cfg.lease_seconds,
                                     worker=self.worker_id)
                             .execution_options(synchronize_session=False))
        return rows

    def _whole_batches(self, session: Session, rows: list[Any], due: Any) -> list[Any]:
        """A batch formed earlier goes whole or not at all: a part of it sent under the batch's task_id
        while the rest waits would make the platform refuse the rest as "task id exists" (taken as sent)."""
        keys = {(row.message_id, row.batch) for row in rows if row.batch is not None}
        if not keys:
            return rows
        in_batches = tuple_(col(Delivery.message_id), col(Delivery.batch)).in_(sorted(keys))
        more = CLAIM_SELECT.where(due, in_batches).order_by(col(Delivery.id))
        if self.rt.is_postgres:
            more = more.with_for_update(skip_locked=True)
        have = {row.id for row in rows}
        rows = rows + [row for row in session.execute(more) if row.id not in have]
        message_id, batch = col(Delivery.message_id), col(Delivery.batch)
        unsent = (select(message_id, batch, func.count())
                  .where(in_batches, col(Delivery.status).in_(UNSENT_STATUSES)).group_by(message_id, batch))
        counts = {(m, b): int(n) for m, b, n in session.exec(unsent)}
        claimed = collections.Counter((row.message_id, row.batch) for row in rows if row.batch is not None)
        whole = {key for key, n in claimed.items() if counts.get(key) == n}
        if len(whole) < len(claimed):
            log.info("left %d partly claimable batches for later", len(claimed) - len(whole))
        return [row for row in rows if row.batch is None or (row.message_id, row.batch) in whole]

    def _release(self, rows: list[Any]) -> None:
        """Give rows back unsent (the round ran past half its lease)."""
        with self.rt.write() as session:
            self._set(session, rows, status="queued", worker=None, lease_until=0.0)
        log.info("released %d claimed rows before their lease ran out", len(rows))

    def _deliver(self, message: OutboundMessage, rows: list[Any], batch: int | None = None) -> None:
        if message.expires_at is not None and message.expires_at < clock.now():
            with self.rt.write() as session:
                self._set(session, rows, status="expired", last_error="expired before delivery")
                self._seal_final(session, message, rows)
            self.stats["expired"] += len(rows)
            return
        opened = self._open(message, rows)
        if opened is None:
            return
        recipients = list(opened)
        try:
            sender = sender_for(self.rt, message.channel)
            result = sender.send(message.kind, with_task_id(json.loads(message.payload), batch), recipients)
        except (SendError, *SEND_EXCEPTIONS) as exc:
            error = classify(exc)
            if not error.attempted:  # e.g. Redis down: not the platform's answer, not an attempt
                log.warning("message %s not sent (%s): %d rows wait, no attempt counted", message.id, error,
                            len(recipients))
                result = SendResult(wait=dict.fromkeys(recipients, clock.wall() + NotAttempted.delay))
            elif error.transient:
                result = SendResult(retry=dict.fromkeys(recipients, str(error)))
            else:
                result = SendResult(failed=dict.fromkeys(recipients, str(error)), config_error=str(error))
        except Exception as exc:  # a bug must not wedge the queue: count it as an attempt, keep the row
            log.exception("sending message %s failed unexpectedly", message.id)
            result = SendResult(retry=dict.fromkeys(recipients, f"{type(exc).__name__}: {exc}"))
        if message.sealed:  # back from the plain recipient to the stored (encrypted) one
            result = SendResult(**{name: {opened.get(r, r): v for r, v in getattr(result, name).items()}
                                   for name in ("failed", "retry", "wait")},
                                sent=[opened.get(r, r) for r in result.sent], config_error=result.config_error)
        self._record(message, rows, result)

    def _open(self, message: OutboundMessage, rows: list[Any]) -> dict[str, str] | None:
        """plain recipient -> stored recipient; a sealed one is decrypted here, only to send. One that no longer
        decrypts (`seal_key` changed) fails for good; None when nothing is left to send."""
        if not message.sealed:
            return {row.recipient: row.recipient for row in rows}
        opened, broken = {}, []
        for row in rows:
            try:
                plain = seal.decrypt(self.rt.config, row.recipient) if seal.is_encrypted(row.recipient) \
                    else row.recipient
            except seal.SealError:
                broken.append(row)
                continue
            opened[plain] = row.recipient
        if broken:
            with self.rt.write() as session:
                self._set(session, broken, status="failed", last_error="sealed recipient: seal_key changed",
                          attempts=Delivery.attempts + 1, worker=None, lease_until=0.0)
                self._seal_final(session, message, broken)
            self.stats["failed"] += len(broken)
        return opened or None

    def _record(self, message: OutboundMessage, rows: list[Any], result: SendResult) -> None:
        now, wall = clock.now(), clock.wall()
        by_recipient = {row.recipient: row for row in rows}
        handled = set(result.sent) | set(result.failed) | set(result.retry) | set(result.wait)
        for recipient in by_recipient.keys() - handled:
            result.retry[recipient] = "no outcome reported by the sender"
        done = {"worker": None, "lease_until": 0.0}
        with self.rt.write() as session:
            sent = [by_recipient[r] for r in result.sent if r in by_recipient]
            self._set(session, sent, status="sent", sent_at=now, last_error=None,
                      attempts=Delivery.attempts + 1, **done)
            for error, group in self._group(by_recipient, result.failed.items()):
                self._set(session, group, status="failed", last_error=error[:500],
                          attempts=Delivery.attempts + 1, **done)
            retries = ((r, (by_recipient[r].attempts + 1, e)) for r, e in result.retry.items())
            for (attempts, error), group in self._group(by_recipient, retries):
                if attempts >= self.cfg.max_attempts:
                    self._set(session, group, status="failed", attempts=attempts, last_error=error[:500], **done)
                    self.stats["failed"] += len(group)
                    continue
                delay = min(self.cfg.backoff_seconds * 2 ** (attempts - 1), self.cfg.backoff_max_seconds)
                self._set(session, group, status="queued", attempts=attempts, retry_at=wall + delay,
                          last_error=error[:500], **done)
                self.stats["retried"] += len(group)
            for retry_at, group in self._group(by_recipient, result.wait.items()):
                self._set(session, group, status="queued", retry_at=retry_at, **done)
            if result.config_error:
                self._alert(session, message, result.config_error, len(result.failed))
            self._seal_final(session, message, rows)
        self.stats["sent"] += len(sent)
        self.stats["failed"] += len(result.failed)
        self.stats["waiting"] += len(result.wait)

    @staticmethod
    def _seal_final(session: Session, message: OutboundMessage, rows: list[Any]) -> None:
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

    @staticmethod
    def _group(by_recipient: dict[str, Any], pairs: Iterable[tuple[str, Any]]) -> Iterable[tuple[Any, list]]:
        groups: dict[Any, list[Any]] = collections.defaultdict(list)
        for recipient, value in pairs:
            if recipient in by_recipient:
                groups[value].append(by_recipient[recipient])
        return groups.items()

    @staticmethod
    def _set(session: Session, rows: list[Any], **values: Any) -> None:
        for chunk in _chunks([row.id for row in rows], IN_CHUNK):
            session.exec(update(Delivery).where(col(Delivery.id).in_(chunk)).values(**values)
                         .execution_options(synchronize_session=False))

    def _alert(self, session: Session, message: OutboundMessage, error: str, failed: int) -> None:
        """A configuration error: an audit row the console shows the admins, and an ERROR log line."""
        detail = f"{message.channel}/{message.kind}: {error}; {failed} deliveries failed, not retried"
        session.add(AuditLog(at=clock.now(), actor="outbox", action="delivery_config_error",
                             target=f"message:{message.id}", detail=detail))
        log.error("delivery configuration error for message %s: %s", message.id, detail)
        if message.created_by != ALERT_SENDER:  # an alert that fails itself raises no further alert
            alert_admins(session, self.rt.config, message.channel, error)
