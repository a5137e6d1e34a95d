"""The `housekeeping` job: keep the message tables from growing for ever.

Purges inbound messages older than `[retention] inbound_days`, deliveries in a final state (sent, failed,
expired) created more than `[retention] delivery_days` ago, and outbound messages of that age left with
no delivery. Cut-offs count from local midnight of the run date, so a rerun for the same date removes the
same rows. Deletes run in small batches (short write locks on SQLite); one AuditLog row has the counts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlmodel import SQLModel, col

from bot import clock
from bot.models import AuditLog, Delivery, InboundMessage, OutboundMessage
from bot.runtime import Runtime

log = logging.getLogger(__name__)

FINAL_STATES = ("sent", "failed", "expired")
BATCH = 1000


def _purge(runtime: Runtime, model: type[SQLModel], condition: ColumnElement[bool]) -> int:
    table: Any = model
    total = 0
    while True:
        with runtime.write() as session:
            ids = list(session.execute(select(table.id).where(condition).limit(BATCH)).scalars())
            if not ids:
                return total
            session.execute(delete(table).where(table.id.in_(ids)))
        total += len(ids)


def housekeeping(runtime: Runtime, date: dt.date) -> str:
    """Purge old inbound messages and finished deliveries; one audit row with the counts."""
    inbound_days = runtime.config.retention.inbound_days
    delivery_days = runtime.config.retention.delivery_days
    midnight = clock.at(date, dt.time(0))
    inbound_cutoff = midnight - dt.timedelta(days=inbound_days)
    delivery_cutoff = midnight - dt.timedelta(days=delivery_days)
    counts = {
        "inbound": _purge(runtime, InboundMessage, col(InboundMessage.received_at) < inbound_cutoff),
        "deliveries": _purge(runtime, Delivery, col(Delivery.status).in_(FINAL_STATES)
                             & (col(Delivery.created_at) < delivery_cutoff)),
        "messages": _purge(runtime, OutboundMessage, (col(OutboundMessage.created_at) < delivery_cutoff)
                           & ~exists().where(col(Delivery.message_id) == OutboundMessage.id)),
    }
    detail = {**counts, "inbound_before": inbound_cutoff.isoformat(),
              "delivery_before": delivery_cutoff.isoformat()}
    with runtime.write() as session:
        session.add(AuditLog(at=clock.now(), actor="scheduler", action="housekeeping",
                             target=date.isoformat(), detail=json.dumps(detail)))
    summary = " ".join(f"{k}={v}" for k, v in counts.items())
    log.info("housekeeping %s: %s", date, summary)
    return summary
