"""`secretary_digest`: once a workday each person who decides gets one message with counts per kind and the
command that lists each; nothing when there is nothing.

- Secretaries and deputies: requests they would be told of (`approvals.deciders`) waiting in 待审, per kind;
  their branch's tickets new since the last digest and overdue (进度); open tasks they take (完成).
- Committee members: requests for the committee (points adjustments over the limit, and those of branches
  without a secretary or deputy) in 待审; every escalated ticket still open (进度 without a number lists
  them); tasks that fell to the committee (a task about a branch's only secretary, see tasks.takers).
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from bot import clock, notify, texts
from bot.models import Approval, Member, Ticket
from bot.services import approvals, tasks
from bot.services.tickets import escalation as tickets_escalation

DECIDER_ROLES = ("secretary", "deputy", "committee")


def people(session: Session) -> list[Member]:
    """Active secretaries, deputies and committee members."""
    rows = session.exec(select(Member).where(Member.active).order_by(col(Member.id)))
    return [m for m in rows if m.has_role(*DECIDER_ROLES)]


def _requests_by_person(session: Session) -> dict[int, collections.Counter[str]]:
    by_person: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    pending = session.exec(select(Approval).where(Approval.status == "pending").order_by(col(Approval.number)))
    for request in pending:
        label = approvals.label(request.kind)
        for member in approvals.deciders(session, request):
            if member.id is not None:
                by_person[member.id][label] += 1
    return by_person


def lines_for(session: Session, person: Member, requests: collections.Counter[str], today: dt.date,
              since: dt.datetime) -> list[str]:
    """The digest's lines for one person (empty: nothing to tell)."""
    lines = []
    if requests:
        kinds = "、".join(texts.t("digest.kind", label=label, count=n) for label, n in requests.most_common())
        lines.append(texts.t("digest.requests", count=sum(requests.values()), kinds=kinds))
    if person.has_role("secretary", "deputy") and person.branch_id is not None:
        open_rows = list(session.exec(select(Ticket).where(Ticket.status == "open",
                                                           Ticket.branch_id == person.branch_id)))
        new = sum(1 for t in open_rows if t.created_at is not None and t.created_at >= since)
        overdue = sum(1 for t in open_rows if t.due_on is not None and t.due_on < today)
        if new or overdue:
            lines.append(texts.t("digest.tickets", new=new, overdue=overdue))
    if person.has_role("committee"):
        escalated = len(tickets_escalation.escalated_open(session))
        if escalated:
            lines.append(texts.t("digest.escalated", count=escalated))
    open_tasks = len(tasks.open_for(session, person))
    if open_tasks:
        lines.append(texts.t("digest.tasks", count=open_tasks))
    return lines


def send(session: Session, config: Any, day: dt.date, since: dt.datetime) -> int:
    """One message per person with something waiting (tickets counted as new when created after `since`,
    the previous digest). Idempotent per (day, person) by the outbox key. Returns people told."""
    requests = _requests_by_person(session)
    told = 0
    for person in people(session):
        lines = lines_for(session, person, requests.get(person.id or 0, collections.Counter()), day, since)
        if not lines:
            continue
        text = "\n".join([texts.t("digest.header", date=day.isoformat()), *lines])
        told += notify.members(session, config, [person], text, key=f"secretary_digest:{day}:{person.id}",
                               topic="secretary_digest", created_by="scheduler") > 0
    return told


def previous_run(day: dt.date, at: dt.time) -> dt.datetime:
    """When the previous workday's digest ran (new tickets are counted from then)."""
    return clock.at(clock.previous_workday(day), at)
