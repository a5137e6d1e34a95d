"""Problems and suggestions (问题与建议): 反映 / 建议 / 匿名反映 file a ticket `#N` (`report`); who may see and
handle it; telling the reporter; `forget`'s scrub. What handlers do to a ticket (定级 / 指派 / 回复 / 办结 / 采纳)
and the reporter's rating are in `handling`, overdue escalation in `escalation`.

Decisions (README.md repeats them):
- Deadlines count working days (bot.clock.add_workdays) from the day of the report; an ungraded ticket is due
  after `[tickets] ungraded_days`, 定级 sets the grade's deadline; a reopened or escalated ticket gets the
  grade's deadline again from that day.
- Anonymous tickets store no member id: only `reporter_ref = bot.seal.report_seal(config, userid, number)`, an
  HMAC of the member and the report under `[app] seal_key` (default `secret_key`), so two reports by one member
  carry unrelated seals. A reply reaches the reporter by recomputing the seal over the active members of the
  ticket's branch (then everyone active, for a member who moved) at send time; nothing maps the reference
  back anywhere else. Pushes to an anonymous reporter go through `outbox.enqueue_sealed` (recipient encrypted
  until sent, then wiped; key an HMAC) and carry neither the number nor the text ("回复「进度」查看").
  Every row written about an anonymous ticket (number, ticket, events, escalations, audit, notices) keeps
  its time to the day (`bot.seal.day_of`). Changing `seal_key` cuts anonymous reporters off from their
  tickets.
- Anonymous reports earn no points (the ledger would name the reporter); `problem_reported` is for 反映
  only (monthly cap from the rule), `suggestion_adopted` when a secretary 采纳s a named suggestion.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock, notify, outbox, seal, texts
from bot.enums import PointsRule
from bot.models import Member, Ticket, TicketEscalation, TicketEvent
from bot.refusal import Refusal
from bot.services.approvals import find_numbered, get_numbered, next_number
from bot.services.points import core as pts
from bot.services.roster.forget import Forgotten
from bot.services.roster.sweep import ERASED_TEXT
from bot.services.tickets.categories import categorise

GRADE_KEYS = {"急难": "urgent", "重大": "major", "一般": "ordinary", "萌芽": "emerging"}
HANDLER_ROLES = ("secretary", "deputy", "committee")


class TicketError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def days_for(config: Any, grade: str | None) -> int:
    """Working days allowed for a grade (`[tickets] <urgent|major|ordinary|emerging|ungraded>_days`)."""
    key = GRADE_KEYS.get(grade or "", "ungraded")
    return int(getattr(config.tickets, f"{key}_days"))


def find(session: Session, number: int) -> Ticket | None:
    return find_numbered(session, Ticket, number)


def get(session: Session, number: int) -> Ticket:
    return get_numbered(session, Ticket, number, TicketError, "tickets.not_found")


def sealed_for(config: Any, ticket: Ticket, member: Member) -> str:
    """The seal `member` would have on this (anonymous) ticket."""
    return seal.report_seal(config, member.userid, ticket.number)


def is_reporter(config: Any, ticket: Ticket, member: Member) -> bool:
    if ticket.anonymous:
        return ticket.reporter_ref == sealed_for(config, ticket, member)
    return ticket.reporter_id == member.id


def reporter_of(session: Session, config: Any, ticket: Ticket) -> Member | None:
    """The reporter, for sending only: anonymous ones by recomputing the seal (never stored or shown)."""
    if not ticket.anonymous:
        return session.get(Member, ticket.reporter_id) if ticket.reporter_id else None
    active = select(Member).where(col(Member.active).is_(True))
    for stmt in (active.where(Member.branch_id == ticket.branch_id), active):
        for member in session.exec(stmt):
            if sealed_for(config, ticket, member) == ticket.reporter_ref:
                return member
    return None


def stamp(ticket: Ticket) -> dt.datetime:
    """Now, kept to the day for an anonymous ticket."""
    return seal.day_of() if ticket.anonymous else clock.now()


def add_event(session: Session, ticket: Ticket, action: str, actor: str, text: str = "",
           branch_id: int | None = None) -> None:
    assert ticket.id is not None  # flushed when it was created
    session.add(TicketEvent(ticket_id=ticket.id, action=action, actor=actor[:64], text=text[:500],
                            branch_id=branch_id, at=stamp(ticket)))


def audit_row(session: Session, ticket: Ticket, actor: str, action: str, detail: str = "") -> None:
    audit.record(session, actor, action, f"#{ticket.number}", detail, sealed=ticket.anonymous)


def notify_handlers(session: Session, config: Any, ticket: Ticket, people: list[Member], text: str, key: str,
            urgent: bool = False) -> None:
    """A notice to handlers (`ticket_notice`), or an urgent one (`ticket_urgent`: a ticket graded 急难)."""
    notify.members(session, config, people, text, key=key, topic="ticket_urgent" if urgent else "ticket_notice",
                   sealed=ticket.anonymous)


def report(session: Session, config: Any, member: Member, kind: str, text: str, anonymous: bool = False,
           branch_id: int | None = None) -> Ticket:
    """File a problem (`kind="problem"`) or suggestion for `branch_id` (default: the member's own branch;
    a committee member's `@code` chooses another); returns the ticket (its number is the reply)."""
    number = next_number(session, "ticket", sealed=anonymous)
    ticket = Ticket(number=number, kind=kind, anonymous=anonymous, branch_id=branch_id or member.branch_id,
                    reporter_id=None if anonymous else member.id,
                    reporter_ref=seal.report_seal(config, member.userid, number) if anonymous else None,
                    category=categorise(text), text=text[:2000], created_at=seal.day_of() if anonymous else clock.now(),
                    due_on=clock.add_workdays(clock.today(), days_for(config, None)))
    session.add(ticket)
    session.flush()
    actor = "reporter" if anonymous else member.userid
    add_event(session, ticket, "created", actor)
    audit_row(session, ticket, "anonymous" if anonymous else member.userid, f"ticket_{kind}")
    if kind == "problem" and not anonymous:
        pts.award(session, config, member, PointsRule.PROBLEM_REPORTED, on=clock.today(),
                  reason=texts.t("tickets.reason_reported", number=number), source=f"ticket:#{number}")
    people = handlers_of(session, ticket.branch_id)
    if people:
        notice = texts.t("tickets.new_notice", number=number, kind=label(ticket), category=ticket.category,
                         who=who(session, ticket), text=ticket.text[:300])
        notify_handlers(session, config, ticket, people, notice, key=f"ticket:{number}:new")
    return ticket


def label(ticket: Ticket) -> str:
    if ticket.kind == "suggestion":
        return texts.t("tickets.kind_suggestion")
    return texts.t("tickets.kind_anonymous" if ticket.anonymous else "tickets.kind_problem")


def who(session: Session, ticket: Ticket) -> str:
    """The reporter as a handler may see it: a name, or 匿名 (never anything derived from the seal)."""
    if ticket.anonymous:
        return texts.t("tickets.anonymous")
    member = session.get(Member, ticket.reporter_id) if ticket.reporter_id else None
    return member.name if member else "-"


def handlers_of(session: Session, branch_id: int | None) -> list[Member]:
    """Secretaries, deputies and committee members on the roll of this branch."""
    if branch_id is None:
        return []
    stmt = select(Member).where(col(Member.active).is_(True), Member.branch_id == branch_id)
    return [m for m in session.exec(stmt) if m.has_role(*HANDLER_ROLES)]


def may_handle(session: Session, member: Member, ticket: Ticket, branch_id: int | None = None) -> bool:
    """Committee members handle every ticket; a secretary or deputy those of their branch (or the one chosen
    with `@code`) and those escalated to their branch."""
    if member.has_role("committee"):
        return True
    if not member.has_role("secretary", "deputy"):
        return False
    if ticket.branch_id in {member.branch_id, branch_id}:
        return True
    stmt = select(TicketEscalation).where(TicketEscalation.ticket_id == ticket.id,
                                          TicketEscalation.branch_id == member.branch_id)
    return session.exec(stmt).first() is not None


def may_take(session: Session, ticket: Ticket, person: Member) -> bool:
    """Who may be assigned a ticket (and so read its text): a member of its branch or of a branch it was
    escalated to, or someone who may handle it anyway (a committee member)."""
    if person.branch_id == ticket.branch_id or may_handle(session, person, ticket):
        return True
    stmt = select(TicketEscalation.id).where(TicketEscalation.ticket_id == ticket.id,
                                             TicketEscalation.branch_id == person.branch_id)
    return person.branch_id is not None and session.exec(stmt).first() is not None


def is_assignee(session: Session, member: Member, number: int) -> bool:
    ticket = find(session, number)
    return ticket is not None and ticket.assignee_id is not None and ticket.assignee_id == member.id


def tell_reporter(session: Session, config: Any, ticket: Ticket, key: str, step: str, **values: Any) -> None:
    """Tell the reporter about `step`; an anonymous reporter only learns that there is news (see module doc)."""
    member = reporter_of(session, config, ticket)
    if member is None:
        return
    if ticket.anonymous:  # sealed: neither text nor key names the ticket, the recipient is encrypted then wiped
        if member.active:
            channel, recipient = notify.address(member, config)
            outbox.enqueue_sealed(session, channel=channel, text=texts.t("tickets.told_anonymous"),
                                  recipient=recipient, key=f"{ticket.reporter_ref}:{ticket.number}:{key}",
                                  config=config)
        return
    text = texts.t(f"tickets.told_{step}", number=ticket.number, **values)
    notify.members(session, config, [member], text, key=f"ticket:{ticket.number}:told:{key}", topic="ticket_reply")


def mine(session: Session, config: Any, member: Member, limit: int = 10) -> list[Ticket]:
    """The member's latest tickets: named ones by id, anonymous ones by recomputing each ticket's seal."""
    named = select(Ticket).where(Ticket.reporter_id == member.id).order_by(col(Ticket.number).desc()).limit(limit)
    rows = list(session.exec(named))
    sealed = select(Ticket).where(col(Ticket.anonymous).is_(True)).order_by(col(Ticket.number).desc())
    rows += [t for t in session.exec(sealed) if t.reporter_ref == sealed_for(config, t, member)]
    return sorted(rows, key=lambda t: -t.number)[:limit]


def open_in(session: Session, branch_id: int) -> list[Ticket]:
    """Open tickets of a branch, soonest deadline first."""
    stmt = select(Ticket).where(Ticket.status == "open", Ticket.branch_id == branch_id)
    return list(session.exec(stmt.order_by(col(Ticket.due_on), col(Ticket.number))))


def events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
    return list(session.exec(stmt))


def scrub_tickets(session: Session, gone: Forgotten) -> None:
    """`forget`: the member's named tickets keep their counts but lose their text (searched for elsewhere too).
    Anonymous tickets are out of reach by design: their seals are never computed or searched here."""
    named = select(Ticket).where(Ticket.reporter_id == gone.member_id)
    gone.keep_words(t.text for t in session.exec(named))
    gone.scrub(session, Ticket, Ticket.reporter_id == gone.member_id, text=ERASED_TEXT)
    gone.scrub(session, TicketEvent, gone.matches(TicketEvent.actor), actor=gone.token)
