"""What handlers do to a ticket — 定级 (grade), 指派 (assign), 回复 (answer), 办结 (close), 采纳 (adopt) — and the
reporter's 满意 / 不满意 (`rate`; the first 不满意 reopens it once). Filing, visibility and telling the reporter are
in `core` (its docstring has the deadline and anonymity rules).

Decisions (README.md repeats them):
- 采纳 closes an open suggestion (resolution 「已采纳」); its reporter may still rate it, but 不满意 does not
  reopen it. 指派 to someone else ends the previous assignee's part: their queued notices about the ticket
  are dropped (only the assignment ones when they handle it anyway), or, when none was left, they get a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, select

from bot import clock, notify, texts
from bot.enums import PointsRule
from bot.models import Delivery, Member, OutboundMessage, Ticket, TicketEvent
from bot.services.member_lookup import one_member
from bot.services.points import core as pts
from bot.services.tickets.core import (
    GRADE_KEYS,
    TicketError,
    add_event,
    audit_row,
    days_for,
    events,
    get,
    handlers_of,
    is_reporter,
    may_handle,
    may_take,
    notify_handlers,
    stamp,
    tell_reporter,
)


def _handled(session: Session, actor: Member, number: int, branch_id: int | None, open_only: bool = True,
             assignee: bool = False) -> Ticket:
    """The ticket `actor` may act on (`assignee`: also its assignee, for 回复 and 办结)."""
    ticket = get(session, number)
    own = assignee and ticket.assignee_id is not None and ticket.assignee_id == actor.id
    if not own and not may_handle(session, actor, ticket, branch_id):
        raise TicketError(texts.t("tickets.not_yours", number=number))
    if open_only and ticket.status != "open":
        raise TicketError(texts.t("tickets.closed_already", number=number))
    return ticket


def grade(session: Session, config: Any, actor: Member, number: int, value: str,
          branch_id: int | None = None) -> Ticket:
    if value not in GRADE_KEYS:
        raise TicketError(texts.t("tickets.bad_grade"))
    ticket = _handled(session, actor, number, branch_id)
    ticket.grade = value
    start = local_day(ticket.created_at) if not ticket.reopened and not ticket.level else clock.today()
    ticket.due_on = clock.add_workdays(start, days_for(config, value))
    session.add(ticket)
    add_event(session, ticket, "graded", actor.userid, value)
    audit_row(session, ticket, actor.userid, "ticket_grade", value)
    tell_reporter(session, config, ticket, f"grade:{value}", "graded", grade=value, due=ticket.due_on.isoformat())
    if value == "急难":  # its handlers hear at once, quiet hours and 免打扰 notwithstanding
        assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
        people = [m for m in [*handlers_of(session, ticket.branch_id), assignee] if m is not None and m.id != actor.id]
        text = texts.t("tickets.urgent_notice", number=number, category=ticket.category, text=ticket.text[:300],
                       due=ticket.due_on.isoformat())
        notify_handlers(session, config, ticket, people, text, key=f"ticket:{number}:urgent", urgent=True)
    return ticket


def assignee_for(session: Session, actor: Member, number: int, token: str, branch_id: int | None = None) -> Member:
    """The member `token` (a userid or a name) names for 指派: among those who may take ticket `number`
    (its branch, branches it was escalated to, handlers)."""
    ticket = _handled(session, actor, number, branch_id)
    return one_member(session, token, None, keep=lambda m: may_take(session, ticket, m))


def assign(session: Session, config: Any, actor: Member, number: int, person: Member,
           branch_id: int | None = None) -> tuple[Ticket, Member]:
    ticket = _handled(session, actor, number, branch_id)
    if not may_take(session, ticket, person):  # the notice carries the ticket's text: not to other branches
        raise TicketError(texts.t("tickets.assign_outside", number=number, name=person.name))
    if ticket.assignee_id == person.id:
        return ticket, person  # already theirs: nothing changes, nobody is told twice
    previous = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    before = [e.text for e in events(session, ticket) if e.action == "assigned"]
    rounds = len(before) + 1  # numbered: WeCom drops a text identical to one sent to them within 30 minutes
    ticket.assignee_id = person.id
    session.add(ticket)
    add_event(session, ticket, "assigned", actor.userid, f"member#{person.id}")
    audit_row(session, ticket, actor.userid, "ticket_assign", f"member#{person.id}")
    if previous is not None:
        _release(session, config, ticket, previous, rounds)
    due = ticket.due_on.isoformat() if ticket.due_on else "-"
    again = "tickets.assigned_again_notice" if f"member#{person.id}" in before else "tickets.assigned_notice"
    notify_handlers(session, config, ticket, [person], texts.t(again, number=number, due=due, rounds=rounds,
            category=ticket.category, text=ticket.text[:300]), key=f"ticket:{number}:assign:{rounds}:{person.id}")
    tell_reporter(session, config, ticket, f"assign:{rounds}:{person.id}", "reassigned" if previous else "assigned",
                  name=person.name, rounds=rounds)
    return ticket, person


def _release(session: Session, config: Any, ticket: Ticket, previous: Member, rounds: int) -> None:
    """A reassigned ticket stops reaching its previous assignee: their notices about it still queued are
    dropped (only the assignment ones when they handle it anyway as secretary or committee); when none was
    dropped they already knew, and get a short note that it is no longer theirs."""
    _, recipient = notify.address(previous, config)
    about = f"ticket:{ticket.number}:" + ("assign:%" if may_handle(session, previous, ticket) else "%")
    stmt = (select(Delivery).join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
            .where(col(OutboundMessage.key).like(about), Delivery.recipient == recipient, Delivery.status == "queued"))
    dropped = list(session.exec(stmt))
    for row in dropped:
        row.status, row.last_error = "expired", "reassigned"
        session.add(row)
    if not dropped:
        note = texts.t("tickets.unassigned_notice", number=ticket.number, rounds=rounds)
        notify_handlers(session, config, ticket, [previous], note,
                key=f"ticket:{ticket.number}:unassign:{rounds}:{previous.id}")


def answer(session: Session, config: Any, actor: Member, number: int, text: str,
           branch_id: int | None = None) -> Ticket:
    ticket = _handled(session, actor, number, branch_id, assignee=True)
    add_event(session, ticket, "replied", actor.userid, text)
    session.flush()
    audit_row(session, ticket, actor.userid, "ticket_reply")
    count = len(session.exec(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id)).all())
    tell_reporter(session, config, ticket, f"reply:{count}", "replied", text=text[:500])
    return ticket


def close(session: Session, config: Any, actor: Member, number: int, text: str,
          branch_id: int | None = None) -> Ticket:
    ticket = _handled(session, actor, number, branch_id, assignee=True)
    ticket.status, ticket.closed_at, ticket.resolution = "closed", stamp(ticket), text[:500]
    session.add(ticket)
    add_event(session, ticket, "closed", actor.userid, text)
    audit_row(session, ticket, actor.userid, "ticket_close")
    tell_reporter(session, config, ticket, f"close:{ticket.reopened}", "closed", text=text[:500])
    return ticket


def adopt(session: Session, config: Any, actor: Member, number: int, branch_id: int | None = None) -> Ticket:
    ticket = _handled(session, actor, number, branch_id, open_only=False)
    if ticket.kind != "suggestion":
        raise TicketError(texts.t("tickets.not_suggestion", number=number))
    if ticket.adopted:
        raise TicketError(texts.t("tickets.adopted_already", number=number))
    ticket.adopted = True
    if ticket.status == "open":  # adopting settles it: closed, never escalated as overdue
        ticket.status, ticket.closed_at = "closed", stamp(ticket)
        ticket.resolution = texts.t("tickets.adopted_resolution")
    session.add(ticket)
    add_event(session, ticket, "adopted", actor.userid, texts.t("tickets.adopted_resolution"))
    audit_row(session, ticket, actor.userid, "ticket_adopt")
    reporter = session.get(Member, ticket.reporter_id) if ticket.reporter_id else None
    if reporter is not None and reporter.id != actor.id:
        pts.award(session, config, reporter, PointsRule.SUGGESTION_ADOPTED, on=clock.today(), actor=actor.userid,
                  reason=texts.t("tickets.reason_adopted", number=number), source=f"ticket:#{number}")
    tell_reporter(session, config, ticket, "adopted", "adopted")
    return ticket


@dataclass(frozen=True)
class Rating:
    """满意 / 不满意's outcome: "satisfied", "final" (不满意 recorded, not reopened) or "reopened" (due `due`)."""
    number: int
    outcome: Literal["satisfied", "final", "reopened"]
    due: dt.date | None = None


def rate(session: Session, config: Any, member: Member, ticket: Ticket, satisfied: bool) -> Rating:
    """The reporter's 满意 / 不满意 on a closed ticket; the first 不满意 reopens it."""
    number = ticket.number
    if not is_reporter(config, ticket, member):
        raise TicketError(texts.t("tickets.rate_not_reporter", number=number))
    if ticket.status != "closed":
        raise TicketError(texts.t("tickets.rate_not_closed", number=number))
    if ticket.rating is not None:
        raise TicketError(texts.t("tickets.rated_already", number=number))
    actor = "reporter" if ticket.anonymous else member.userid
    if satisfied or ticket.reopened or ticket.adopted:  # an adopted suggestion is not reopened
        ticket.rating = "satisfied" if satisfied else "unsatisfied"
        session.add(ticket)
        add_event(session, ticket, "rated", actor, ticket.rating)
        return Rating(number, "satisfied" if satisfied else "final")
    ticket.status, ticket.closed_at, ticket.reopened = "open", None, ticket.reopened + 1
    ticket.due_on = clock.add_workdays(clock.today(), days_for(config, ticket.grade))
    session.add(ticket)
    add_event(session, ticket, "reopened", actor)
    people = handlers_of(session, ticket.branch_id)
    assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    if assignee is not None:
        people.append(assignee)
    notice = texts.t("tickets.reopened_notice", number=number, due=ticket.due_on.isoformat())
    notify_handlers(session, config, ticket, [p for p in people if p], notice, key=f"ticket:{number}:reopened")
    return Rating(number, "reopened", ticket.due_on)


def local_day(moment: dt.datetime | None) -> dt.date:
    return clock.local(moment).date() if moment else clock.today()
