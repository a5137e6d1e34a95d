"""Delivery classes (CONTRACT.md "Delivery classes"): the one table that gives every kind of message its class
and its expiry. Callers name the kind (`topic`); `enqueue` looks the rest up here and raises for a topic that
has no row, so a new kind of message cannot be sent without deciding its class.

- reply: the answer to a member's own message or request — at once, no quiet hours, no budget, 免打扰 ignored.
- timed: bound to a moment — waits for the end of quiet hours, not for the budget, and expires (status
  `expired` with the reason) instead of arriving late. 免打扰 holds the card, the study reminder and greetings;
  event and duty messages still go.
- notice: about others or for information — quiet hours, `daily_budget` (beyond it: folded into the next
  digest) and 免打扰 (held) all apply.
- urgent: at once, no quiet hours, no budget, 免打扰 ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot import clock


class DeliveryClass(StrEnum):
    REPLY = "reply"
    TIMED = "timed"
    NOTICE = "notice"
    URGENT = "urgent"


class Expiry(StrEnum):
    """When a timed message expires, from its `anchor` (a date or the event's start)."""

    NONE = "none"
    END_OF_DAY = "end_of_day"  # anchor: the day (the study day, the birthday): its end
    DAY_BEFORE = "day_before"  # anchor: the event's start: when quiet hours begin on the calendar day before
    AT_START = "at_start"  # anchor: the event's (original) start
    START_OF_DAY = "start_of_day"  # anchor: the duty day: its start


@dataclass(frozen=True)
class Rule:
    cls: DeliveryClass
    expiry: Expiry = Expiry.NONE
    held_by_dnd: bool = False  # 免打扰 holds it (every notice; the card, study reminder, greetings)
    budgeted: bool = False  # counts against `daily_budget` and is folded beyond it (notices but digests)


def _reply() -> Rule:
    return Rule(DeliveryClass.REPLY)


def _urgent() -> Rule:
    return Rule(DeliveryClass.URGENT)


def _timed(expiry: Expiry, held: bool = False) -> Rule:
    return Rule(DeliveryClass.TIMED, expiry, held_by_dnd=held)


def _notice(budgeted: bool = True) -> Rule:
    return Rule(DeliveryClass.NOTICE, held_by_dnd=True, budgeted=budgeted)


TABLE: dict[str, Rule] = {
    # reply: the answer to the member's own message or request
    "reply": _reply(),  # the answer to an inbound message, pushed when it could not go passively
    "late_reply": _reply(),  # an answer that arrives after the callback window
    "decision": _reply(),  # 通过 / 驳回 of the member's own request
    "ticket_reply": _reply(),  # progress, replies and closing of the member's own ticket
    # timed: bound to a moment
    "study_card": _timed(Expiry.END_OF_DAY, held=True),
    "study_reminder": _timed(Expiry.END_OF_DAY, held=True),
    "birthday_greeting": _timed(Expiry.END_OF_DAY, held=True),
    "theme_day_publish": _timed(Expiry.AT_START),
    "theme_day_postpone": _timed(Expiry.AT_START),  # anchor: the original start
    "theme_day_cancel": _timed(Expiry.AT_START),  # anchor: the original start
    "theme_day_reminder_day_before": _timed(Expiry.DAY_BEFORE),
    "theme_day_reminder_2h": _timed(Expiry.AT_START),
    "duty_reminder": _timed(Expiry.START_OF_DAY),
    "leave_request_urgent": _timed(Expiry.AT_START),  # a leave for an event within 36 h, to the deciders
    # notice: about others or for information
    "commitment_public": _notice(),  # 公示
    "vote_invitation": _notice(),
    "review_notice": _notice(),
    "task": _notice(),  # tasks and follow-up alerts (one message per person per job)
    "ticket_notice": _notice(),  # ticket notices to handlers and supervisors
    "new_request": _notice(),  # a new request for its deciders
    "points_notice": _notice(),  # 加分 / 扣分 / 否决 told to the member
    "birthday_list": _notice(),
    "study_gap": _notice(),  # editors: the next workday has no reviewed item
    "branch_alert": _notice(),  # theme-day deadline and similar alerts to the committee
    "theme_day_summary": _notice(),  # attendance after an event, to the branch's group robot
    "secretary_digest": _notice(budgeted=False),  # itself a digest: never folded
    "notice_digest": _notice(budgeted=False),  # the digest of folded notices: never folded again
    # urgent
    "urgent_notice": _urgent(),  # 紧急通知
    "ticket_urgent": _urgent(),  # a ticket graded 急难, to its handlers
    "config_alert": _urgent(),  # configuration errors, to the admins
}


def rule(topic: str) -> Rule:
    """The row for `topic`; ValueError for a kind of message with no class."""
    try:
        return TABLE[topic]
    except KeyError:
        raise ValueError(f"message kind {topic!r} has no delivery class: add it to bot/outbox/classes.py") from None


def expires_at(topic: str, anchor: dt.date | dt.datetime | None, config: Any) -> dt.datetime | None:
    """The moment a timed message of `topic` anchored at `anchor` expires (None: it does not)."""
    expiry = rule(topic).expiry
    if expiry is Expiry.NONE:
        return None
    if anchor is None:
        raise ValueError(f"message kind {topic!r} expires ({expiry}): it needs an anchor (a date or a start)")
    if expiry is Expiry.AT_START:
        if not isinstance(anchor, dt.datetime):
            raise ValueError(f"message kind {topic!r} needs the event's start as anchor")
        return anchor
    day = clock.local(anchor).date() if isinstance(anchor, dt.datetime) else anchor
    if expiry is Expiry.END_OF_DAY:
        return clock.at(day + dt.timedelta(days=1), dt.time(0))
    if expiry is Expiry.START_OF_DAY:
        return clock.at(day, dt.time(0))
    window = config.delivery.quiet_window()  # DAY_BEFORE: quiet hours begin on the calendar day before
    before = day - dt.timedelta(days=1)
    return clock.at(before, window[0]) if window else clock.at(day, dt.time(0))


def expiry_reason(topic: str, moment: dt.datetime) -> str:
    """The `last_error` of an expired delivery: the rule and the moment."""
    return f"expired: {topic} ({rule(topic).expiry}) at {clock.local(moment):%Y-%m-%d %H:%M}"
