"""Messages are never lost: re-run inbound rows whose process died, replay the spool.

- `recover_expired()`: rows still `processing` after their lease (the web worker was killed, timed out
  or lost its database connection mid-handling) are taken over and handled again, dated by the time
  they were received; the reply goes through the outbox.
- `replay_spool()`: messages spooled while the database was unreachable are recorded and handled once
  it is back (dedup keys keep each once), dated by receipt; the reply goes through the outbox.

The outbox worker runs both every `RECOVERY_EVERY` seconds (`worker --once` runs them once before
draining); a web process replays its local spool in the background after a callback found the
database reachable again (`kick`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from bot import clock, db, inbound, inbound_lease, spool, texts
from bot.models import InboundMessage as InboundRow
from bot.router import Router
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RECOVERY_EVERY = 15.0  # seconds between passes of the worker
KICK_EVERY = 5.0  # a web process looks at its spool at most this often
BATCH = 100


def router_for(runtime: Runtime) -> Router:
    router = runtime.extras.get("inbound_router")
    if router is None:
        from handlers import build_router

        router = runtime.extras["inbound_router"] = build_router()
    return router


def _rerun(runtime: Runtime, router: Router, claim: inbound_lease.Claim, payload: str | None) -> bool:
    try:
        msg, _ = spool.decode(runtime.config, payload or "")
    except (ValueError, KeyError, TypeError):
        inbound_lease.give_up(runtime, claim, "the stored message cannot be read", router.is_anonymous)
        return False
    if claim.attempt > inbound.MAX_ATTEMPTS:
        inbound_lease.give_up(runtime, claim, "too many attempts", router.is_anonymous)
        inbound.push_text(runtime, msg, claim, texts.t("error.busy"), router.is_anonymous(msg.text))
        return False
    outcome = inbound.finish_late(runtime, router, msg, claim)
    log.info("inbound row %s re-run (attempt %s): %s", claim.row_id, claim.attempt, outcome.status)
    return outcome.status in ("pushed", "failed")


def recover_expired(runtime: Runtime, router: Router | None = None, limit: int = BATCH) -> int:
    """Take over and re-run rows whose lease ran out; the number re-run."""
    router = router or router_for(runtime)
    with runtime.session() as session:
        ids = list(session.exec(select(InboundRow.id).where(InboundRow.status == "processing",
                                                            InboundRow.lease_until < clock.wall())
                                .order_by(col(InboundRow.id)).limit(limit)))
    count = 0
    for row_id in ids:
        taken = inbound.take_over(runtime, InboundRow.id == row_id)
        if taken is not None and _rerun(runtime, router, *taken):
            count += 1
    return count


def replay_spool(runtime: Runtime, router: Router | None = None) -> int:
    """Record and handle every spooled message (stops, keeping the rest, if the database drops again)."""
    router = router or router_for(runtime)
    count = 0
    for entry in spool.pending(runtime.config):
        claim = inbound.record(runtime, entry.message, entry.received_at)
        if claim is None:  # the database has it already (a retry, or a row whose process died)
            taken = inbound.take_over(runtime, InboundRow.dedup_key == inbound.stored_key(entry.message))
            claim = taken[0] if taken else None
        if claim is not None:
            outcome = inbound.finish_late(runtime, router, entry.message, claim)
            if outcome.status == "unavailable":
                log.warning("database unavailable again; the spool keeps the rest")
                break
        entry.done()
        count += 1
    return count


def run_pass(runtime: Runtime, router: Router | None = None) -> dict[str, int]:
    """One pass of both; a database still unreachable is logged, not raised."""
    counts = {"spooled": 0, "recovered": 0}
    try:
        counts["spooled"] = replay_spool(runtime, router)
        counts["recovered"] = recover_expired(runtime, router)
    except SQLAlchemyError as exc:
        if not db.is_unavailable(exc):
            raise
        log.warning("inbound recovery: database unavailable (%s)", type(exc).__name__)
    if any(counts.values()):
        log.info("inbound recovery: %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def loop(runtime: Runtime, stop: threading.Event, every: float = RECOVERY_EVERY) -> None:
    """The worker's recovery thread: a pass every `every` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            run_pass(runtime)
        except Exception:  # a bug here must not stop the thread (and with it, recovery) for good
            log.exception("inbound recovery pass failed")
        stop.wait(every)


def kick(runtime: Runtime, router: Router) -> None:
    """From a callback that reached the database: replay this machine's spool in the background, at most
    one pass at a time per process and one look every KICK_EVERY seconds."""
    state: dict[str, Any] = runtime.extras.setdefault("spool_kick", {"next": 0.0, "lock": threading.Lock()})
    now = clock.monotonic()
    if now < state["next"]:
        return
    state["next"] = now + KICK_EVERY
    if not spool.has_pending(runtime.config) or not state["lock"].acquire(blocking=False):
        return

    def run() -> None:
        try:
            run_pass(runtime, router)
        except Exception:
            log.exception("spool replay failed")
        finally:
            state["lock"].release()

    inbound.executor(runtime).submit(run)
