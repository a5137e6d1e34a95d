"""When each new delivery row goes, from its message's class (bot.outbox.classes):

- reply / urgent: now.
- timed: at the end of quiet hours; `expired` (with the reason) when that is not before its expiry; `skipped`
  for a member on 免打扰 when its kind is held (the card, the study reminder, greetings).
- notice: at the end of quiet hours; `skipped` for a member on 免打扰; `folded` (into the next digest, see
  bot.outbox.digest) when the member already has `daily_budget` budgeted notices on the day it becomes
  sendable. Robots have no budget and no 免打扰.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import clock
from bot.config import Config
from bot.models import Delivery, Member, OutboundMessage
from bot.outbox.classes import TABLE, DeliveryClass, Rule, expiry_reason

SMALL_IN = 200  # up to this many recipients the budget count filters by IN (...)
OPEN_STATUSES = ("queued", "sending", "sent")
UNBUDGETED = tuple(sorted(topic for topic, r in TABLE.items() if r.cls is DeliveryClass.NOTICE and not r.budgeted))
DND_REASON = "held: 免打扰"
DND_CHANNELS = ("wecom", "wechat", "console")  # where a recipient is a member's id, so 免打扰 can hold it


@dataclass(frozen=True)
class Slot:
    status: str  # queued / folded / skipped / expired
    not_before: dt.datetime
    reason: str | None = None


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


def budget_counts(session: Session, recipients: Sequence[str], day: dt.date) -> dict[str, int]:
    """Budgeted notices (open: queued, sending or sent) per recipient that became sendable on a local day.

    Few recipients: filtered by an IN list. Many: one grouped count over the whole day, filtered here (a
    day holds about members x budget rows; huge IN lists get pathological plans once psycopg prepares)."""
    lo = clock.at(day, dt.time(0))
    hi = clock.at(day + dt.timedelta(days=1), dt.time(0))
    query = (select(Delivery.recipient, func.count())
             .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
             .where(col(Delivery.not_before) >= lo, col(Delivery.not_before) < hi,
                    col(Delivery.status).in_(OPEN_STATUSES),
                    OutboundMessage.delivery_class == DeliveryClass.NOTICE.value,
                    or_(col(OutboundMessage.topic).is_(None), col(OutboundMessage.topic).not_in(UNBUDGETED)),
                    OutboundMessage.channel != "robot")
             .group_by(Delivery.recipient))
    if len(recipients) <= SMALL_IN:
        query = query.where(col(Delivery.recipient).in_(list(recipients)))
    wanted = set(recipients)
    return {recipient: int(n) for recipient, n in session.exec(query) if recipient in wanted}


def on_dnd(session: Session, recipients: Sequence[str], channel: str) -> set[str]:
    """The recipients (userids on WeCom, openids on the Official Account) whose member is on 免打扰."""
    if channel not in DND_CHANNELS:
        return set()
    column = col(Member.openid) if channel == "wechat" else col(Member.userid)
    found: set[str] = set()
    for start in range(0, len(recipients), 1000):
        chunk = list(recipients[start:start + 1000])
        found.update(str(r) for r in session.exec(select(column).where(column.in_(chunk), Member.do_not_disturb)))
    return found


def slot(rule: Rule, config: Config, topic: str, expires: dt.datetime | None, now: dt.datetime,
         held: bool) -> Slot:
    """The slot of one recipient before any daily budget: reply and urgent now; otherwise the end of quiet
    hours, `skipped` when 免打扰 holds it (`held`), else `expired` when that is not before its expiry.
    bot.outbox.bulk writes the same rules in SQL by calling this for held and not held."""
    if rule.cls in (DeliveryClass.REPLY, DeliveryClass.URGENT):
        return Slot("queued", now)
    first = quiet_end(now, config.delivery.quiet_window())
    if held:
        return Slot("skipped", first, DND_REASON)
    if expires is not None and first >= expires:
        return Slot("expired", first, expiry_reason(topic, expires))
    return Slot("queued", first)


def needs_budget(rule: Rule, config: Config, channel: str) -> bool:
    """Whether a row of this kind counts against (and may be folded by) the daily budget."""
    return rule.budgeted and config.delivery.daily_budget > 0 and channel != "robot"


def plan(session: Session, config: Config, recipients: Sequence[str], *, channel: str, topic: str, rule: Rule,
         expires: dt.datetime | None, now: dt.datetime) -> dict[str, Slot]:
    """A `Slot` per recipient (see the module docstring)."""
    held = on_dnd(session, recipients, channel) if rule.held_by_dnd else set()
    result = {r: slot(rule, config, topic, expires, now, r in held) for r in recipients}
    pending = [r for r, s in result.items() if s.status == "queued"]
    if not needs_budget(rule, config, channel) or not pending:
        return result
    budget = config.delivery.daily_budget
    counts = budget_counts(session, pending, clock.local(result[pending[0]].not_before).date())
    for r in pending:
        if counts.get(r, 0) >= budget:
            result[r] = Slot("folded", result[r].not_before, f"folded: over daily_budget {budget}")
    return result
