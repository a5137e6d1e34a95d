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
from sqlmodel import Session, select

from bot import clock, texts
from bot.models import Branch, Member, Ticket, TicketEscalation
from bot.services import tickets


def overdue(session: Session, today: dt.date, branch_ids: set[int] | None = None) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.status == "open", Ticket.due_on < today).order_by(Ticket.number)
    rows = list(session.exec(stmt))
    return [t for t in rows if branch_ids is None or t.branch_id in branch_ids]


def _recipients(session: Session, branch: Branch) -> list[Member]:
    people = tickets.handlers_of(session, branch.id)
    if people:
        return people
    stmt = select(Member).where(Member.active.is_(True), Member.roles.contains("committee"))
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


def escalate(session: Session, config: Any, today: dt.date) -> int:
    """Escalate every overdue ticket one level; returns how many notices were queued."""
    sent = 0
    for ticket in overdue(session, today):
        chain = branch_chain(session, ticket.branch_id)
        if ticket.level + 1 >= len(chain):
            continue  # already at the top
        target = chain[ticket.level + 1]
        seen = select(TicketEscalation).where(TicketEscalation.ticket_id == ticket.id,
                                              TicketEscalation.branch_id == target.id)
        if session.exec(seen).first() is None:
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
            people = _recipients(session, target)
            tickets._notify(session, config, ticket, people, notice, key=f"ticket:{ticket.number}:escalate:{target.id}",
                            urgent=ticket.grade == "急难")
            tickets.tell_reporter(session, config, ticket, f"escalate:{target.id}", "escalated", level=target.name)
            sent += 1
        ticket.level += 1
        ticket.due_on = clock.add_workdays(today, tickets.days_for(config, ticket.grade))
        session.add(ticket)
        tickets._event(session, ticket, "escalated", "system", target.name, branch_id=target.id)
        tickets._audit(session, ticket, "system", "ticket_escalate", target.code)
    return sent
