"""Overdue tickets go one level up the branch parent chain (`import-branches` parent) with a supervision
notice (督办通知) to that level's secretaries, deputies and committee members; once per (ticket, level).

A ticket is overdue when it is open and today is after its `due_on`. Escalating gives it the grade's deadline
again from today at the new level, so a ticket still open after that goes up the next level; at the top of
the chain it stays where it is (the top level was told once). A level with nobody to tell falls back to every
committee member. The notice names the branch, grade, deadline and text, never an anonymous reporter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.models import Branch, Member, Ticket, TicketEscalation
from bot.notify_group import Batch
from bot.services.tickets import core as tickets


def overdue(session: Session, today: dt.date, branch_ids: set[int] | None = None) -> list[Ticket]:
    """Open tickets past their deadline; never a closed one, nor an adopted suggestion (采纳 closes it; one
    adopted before that left it open)."""
    stmt = (select(Ticket).where(Ticket.status == "open", col(Ticket.adopted).is_(False), col(Ticket.due_on) < today)
            .order_by(col(Ticket.number)))
    rows = list(session.exec(stmt))
    return [t for t in rows if branch_ids is None or t.branch_id in branch_ids]


def escalated_open(session: Session) -> list[Ticket]:
    """Open tickets escalated at least one level (the committee's 进度 without a number, its digest)."""
    stmt = select(Ticket).where(Ticket.status == "open", Ticket.level > 0).order_by(col(Ticket.number))
    return list(session.exec(stmt))


def _recipients(session: Session, branch: Branch) -> list[Member]:
    people = tickets.handlers_of(session, branch.id)
    if people:
        return people
    stmt = select(Member).where(col(Member.active).is_(True), col(Member.roles).contains("committee"))
    return [m for m in session.exec(stmt) if m.has_role("committee")]


def branch_chain(session: Session, branch_id: int | None) -> list[Branch]:
    """The branch and its parents, nearest first (cycles cut)."""
    chain: list[Branch] = []
    while branch_id is not None and all(b.id != branch_id for b in chain):
        branch = session.get(Branch, branch_id)
        if branch is None:
            break
        chain.append(branch)
        branch_id = branch.parent_id
    return chain


def supervision_batch(today: dt.date) -> Batch:
    """The `ticket_escalation` run's 督办 items (tickets and commitments): one message per person."""
    return Batch(key=f"supervision:{today}", header="tickets.supervision_header", footer="tickets.supervision_footer",
                 created_by="scheduler", topic="ticket_notice")


def escalate(session: Session, config: Any, today: dt.date, batch: Batch | None = None) -> int:
    """Escalate every overdue ticket one level; returns how many notices were queued. The notices go into
    `batch` (sent by the caller), else into one of its own sent at the end."""
    sent, own = 0, batch is None
    batch = batch if batch is not None else supervision_batch(today)
    for ticket in overdue(session, today):
        chain = branch_chain(session, ticket.branch_id)
        if ticket.level + 1 >= len(chain):
            continue  # already at the top
        target = chain[ticket.level + 1]
        seen = select(TicketEscalation).where(TicketEscalation.ticket_id == ticket.id,
                                              TicketEscalation.branch_id == target.id)
        if session.exec(seen).first() is None:
            assert ticket.id is not None  # rows from the session
            assert target.id is not None
            try:
                with session.begin_nested():
                    session.add(TicketEscalation(ticket_id=ticket.id, branch_id=target.id, at=tickets.stamp(ticket)))
            except IntegrityError:
                continue  # another scheduler got there first
            origin = chain[0]
            notice = texts.t("tickets.supervision", number=ticket.number, branch=origin.name, level=target.name,
                             kind=tickets.label(ticket), grade=ticket.grade or texts.t("tickets.ungraded"),
                             due=ticket.due_on.isoformat() if ticket.due_on else "-", category=ticket.category,
                             text=ticket.text[:300])
            line = texts.t("tickets.supervision_line", number=ticket.number, branch=origin.name,
                           kind=tickets.label(ticket), grade=ticket.grade or texts.t("tickets.ungraded"),
                           due=ticket.due_on.isoformat() if ticket.due_on else "-", text=ticket.text[:20])
            people = _recipients(session, target)
            key = f"ticket:{ticket.number}:escalate:{target.id}"
            if ticket.anonymous:  # its notice keeps day-precision times (CONTRACT Privacy): sent on its own
                tickets.notify_handlers(session, config, ticket, people, notice, key=key, urgent=ticket.grade == "急难")
            else:
                batch.add(people, key, line, single=notice, urgent=ticket.grade == "急难")
            tickets.tell_reporter(session, config, ticket, f"escalate:{target.id}", "escalated", level=target.name)
            sent += 1
        ticket.level += 1
        ticket.due_on = clock.add_workdays(today, tickets.days_for(config, ticket.grade))
        session.add(ticket)
        tickets.add_event(session, ticket, "escalated", "system", target.name, branch_id=target.id)
        tickets.audit_row(session, ticket, "system", "ticket_escalate", target.code)
    if own:
        batch.send(session, config)  # one 督办 message per person per run (an urgent one apart)
    return sent
