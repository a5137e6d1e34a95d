"""`ticket_escalation` (every 10m): overdue tickets go one level up the branch parent chain with a supervision
notice, once per (ticket, level) (bot/services/tickets/escalation.py); the same pass closes commitment
satisfaction votes whose window ended and escalates those below the threshold (bot/services/commitments.py).
"""

from __future__ import annotations

import datetime as dt

from bot.runtime import Runtime
from bot.services import commitments
from bot.services.tickets import escalation as tickets_escalation


def ticket_escalation(runtime: Runtime, date: dt.date) -> str:
    """Overdue tickets go one level up with a supervision notice; closed commitment votes are evaluated."""
    with runtime.write() as session:
        batch = tickets_escalation.supervision_batch(date)  # one 督办 message per person per run
        notices = tickets_escalation.escalate(session, runtime.config, date, batch)
        flagged = commitments.evaluate_due(session, runtime.config, date, batch)
        batch.send(session, runtime.config)
    return f"supervision_notices={notices} commitments_escalated={flagged}"
