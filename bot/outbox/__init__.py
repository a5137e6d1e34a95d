"""The outbox: queueing (enqueue), delivery classes and expiry (classes), planning (plan: quiet hours, the
daily budget, 免打扰), folded notices and their digest (digest), and the worker that sends (worker).

`from bot.outbox import enqueue, Worker, ...` keeps working: the public names are re-exported here.
"""

from bot.channels.senders import sender_for
from bot.message import MAX_TEXT_BYTES
from bot.outbox.classes import TABLE, DeliveryClass, Expiry, Rule, expires_at, rule
from bot.outbox.enqueue import (
    ALERT_SENDER,
    KINDS,
    alert_admins,
    enqueue,
    enqueue_sealed,
    requeue,
    status_counts,
    validate,
)
from bot.outbox.plan import quiet_end
from bot.outbox.worker import Worker, batched, with_task_id

__all__ = ["ALERT_SENDER", "KINDS", "MAX_TEXT_BYTES", "TABLE", "DeliveryClass", "Expiry", "Rule", "Worker",
           "alert_admins", "batched", "enqueue", "enqueue_sealed", "expires_at", "quiet_end", "requeue", "rule",
           "sender_for", "status_counts", "validate", "with_task_id"]
