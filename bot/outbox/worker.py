"""The outbox worker: claims due delivery rows (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), sends
them in batches of at most `batch_size` recipients per API call, and records the outcome: sent, failed
(configuration errors also alert the admins through the audit log), or queued again with exponential backoff.
Each round first records as `expired` the queued rows whose message expired (never sent late) and
assembles the notice digests that are due (bot.outbox.digest).
"""

from __future__ import annotations

import collections
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot import clock, seal
from bot.channels.senders import SEND_EXCEPTIONS, NotAttempted, SendError, SendResult, classify, sender_for
from bot.models import AuditLog, Delivery, OutboundMessage
from bot.outbox import digest, rowops
from bot.outbox.classes import expiry_reason
from bot.outbox.enqueue import ALERT_SENDER, alert_admins, chunks
from bot.runtime import Runtime

log = logging.getLogger(__name__)

UNSENT_STATUSES = ("queued", "sending")
FINAL_STATES = ("sent", "failed", "expired")
# sqlalchemy's select: sqlmodel's is typed for at most four columns (run with session.execute)
CLAIM_SELECT = sa_select(col(Delivery.id), col(Delivery.message_id), col(Delivery.recipient), col(Delivery.attempts),
                         col(Delivery.batch))


def batched(message: OutboundMessage) -> bool:
    """A WeCom template card is sent in batches that keep their recipients and task_id for good."""
    return message.channel == "wecom" and message.kind == "template_card"


def with_task_id(payload: dict[str, Any], batch: int | None) -> dict[str, Any]:
    """The body of one send call: a template card's task_id gets its batch number (`study-D-<batch>`)."""
    if batch is None or not payload.get("task_id"):
        return payload
    return {**payload, "task_id": f"{payload['task_id']}-{batch}"}


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
        """Expire what is past its moment, queue the digests that are due, then claim one round of due rows
        and send them; the number of rows handled."""
        self._housekeep()
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
                batches.extend((message, chunk, None) for chunk in chunks(message_rows, size))
        for index, (message, chunk, batch) in enumerate(batches):
            if clock.monotonic() - started > self.cfg.lease_seconds / 2:
                self._release([row for _, rest, _ in batches[index:] for row in rest])
                break
            self._deliver(message, list(chunk), batch)
        return len(rows)

    def _housekeep(self) -> None:
        now = clock.now()
        with self.rt.session() as session:
            if not digest.has_due(session, self.rt.config, now):
                return
        with self.rt.write() as session:
            self.stats["expired"] += digest.expire(session, now)
            self.stats["digests"] += digest.assemble(session, self.rt.config, now)

    def _batches(self, message: OutboundMessage, rows: list[Any],
                 size: int) -> list[tuple[OutboundMessage, Sequence[Any], int | None]]:
        """Rows already in a batch (formed by the claim; a resend: retry, a dead worker's lease ran out) go as
        that batch; new rows get theirs here (rowops.number_batches), stored before anything is sent."""
        known: dict[int, list[Any]] = collections.defaultdict(list)
        fresh: list[Any] = []
        for row in rows:
            (known[row.batch] if row.batch is not None else fresh).append(row)
        result: list[tuple[OutboundMessage, Sequence[Any], int | None]] = [
            (message, group, number) for number, group in known.items()]
        if fresh:
            with self.rt.write() as session:
                result += [(message, piece, number)
                           for number, piece in rowops.number_batches(session, message.id, fresh, size)]
        return result

    def _claim(self) -> list[Any]:
        """Lease up to `batch_size` due rows: those whose worker's lease ran out, then queued rows in the order
        they became due, read along the claim index (ordered by id, PostgreSQL walked past every sent row)."""
        now, wall = clock.now(), clock.wall()
        status, not_before = col(Delivery.status), col(Delivery.not_before)
        stale = or_(and_(status == "sending", col(Delivery.lease_until) < wall),
                    and_(status == "queued", not_before.is_(None), col(Delivery.retry_at) <= wall))
        ready = and_(status == "queued", not_before <= now, col(Delivery.retry_at) <= wall)
        size = self.cfg.batch_size
        with self.rt.write() as session:
            rows = list(session.execute(self._locking(CLAIM_SELECT.where(stale).order_by(col(Delivery.id))
                                                      .limit(size))))
            if len(rows) < size:
                rows += session.execute(self._locking(CLAIM_SELECT.where(ready).order_by(not_before)
                                                      .limit(size - len(rows))))
            rows = self._whole_batches(session, rows, or_(stale, ready))
            return self._lease(session, rows, wall + self.cfg.lease_seconds) if rows else rows

    def _lease(self, session: Session, rows: list[Any], until: float) -> list[Any]:
        """Mark the claimed rows `sending` under this worker's lease; a template card's rows not yet in a
        batch get their batch in the same UPDATE (see `_batches`)."""
        return rowops.lease(session, rows, self._card_size, status="sending", lease_until=until,
                            worker=self.worker_id)

    def _card_size(self, message: OutboundMessage) -> int | None:
        """The batch size of a message sent in batches (a template card), else None."""
        return min(self.cfg.batch_size, sender_for(self.rt, message.channel).batch_size) if batched(message) else None

    def _locking(self, query: Any) -> Any:  # FOR UPDATE SKIP LOCKED on PostgreSQL
        return query.with_for_update(skip_locked=True) if self.rt.is_postgres else query

    def _whole_batches(self, session: Session, rows: list[Any], due: Any) -> list[Any]:
        """A batch formed earlier goes whole or not at all: a part of it sent under the batch's task_id
        while the rest waits would make the platform refuse the rest as "task id exists" (taken as sent)."""
        keys = {(row.message_id, row.batch) for row in rows if row.batch is not None}
        if not keys:
            return rows
        in_batches = tuple_(col(Delivery.message_id), col(Delivery.batch)).in_(sorted(keys))
        more = self._locking(CLAIM_SELECT.where(due, in_batches).order_by(col(Delivery.id)))
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
        if message.expires_at is not None and message.expires_at <= clock.now():
            reason = expiry_reason(message.topic, message.expires_at) if message.topic else "expired before delivery"
            with self.rt.write() as session:
                self._set(session, rows, status="expired", last_error=reason[:500], worker=None, lease_until=0.0)
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

    _seal_final = staticmethod(rowops.seal_final)
    _group = staticmethod(rowops.group)
    _set = staticmethod(rowops.set_rows)

    def _alert(self, session: Session, message: OutboundMessage, error: str, failed: int) -> None:
        """A configuration error: an audit row the console shows the admins, and an ERROR log line."""
        detail = f"{message.channel}/{message.kind}: {error}; {failed} deliveries failed, not retried"
        session.add(AuditLog(at=clock.now(), actor="outbox", action="delivery_config_error",
                             target=f"message:{message.id}", detail=detail))
        log.error("delivery configuration error for message %s: %s", message.id, detail)
        if message.created_by != ALERT_SENDER:  # an alert that fails itself raises no further alert
            alert_admins(session, self.rt.config, message.channel, error)
