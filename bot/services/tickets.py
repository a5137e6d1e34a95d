"""Problems and suggestions (问题与建议): 反映 / 建议 / 匿名反映 → ticket `#N` → 定级 / 指派 / 回复 / 办结 / 采纳
→ the reporter rates it (满意 / 不满意; 不满意 reopens it once).

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
- 采纳 closes an open suggestion (resolution 「已采纳」); its reporter may still rate it, but 不满意 does not
  reopen it. 指派 to someone else ends the previous assignee's part: their queued notices about the ticket
  are dropped (only the assignment ones when they handle it anyway), or, when none was left, they get a note.
- Anonymous reports earn no points (the ledger would name the reporter); `problem_reported` is for 反映
  only (monthly cap from the rule), `suggestion_adopted` when a secretary 采纳s a named suggestion.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock, notify, outbox, seal, texts
from bot.enums import PointsRule
from bot.models import Delivery, Member, OutboundMessage, Ticket, TicketEscalation, TicketEvent
from bot.refusal import Refusal
from bot.services import points as pts
from bot.services.approvals import next_number
from bot.services.member_lookup import one_member
from bot.services.roster_forget import Forgotten
from bot.services.roster_sweep import ERASED_TEXT
from bot.services.ticket_categories import categorise

GRADE_KEYS = {"急难": "urgent", "重大": "major", "一般": "ordinary", "萌芽": "emerging"}
HANDLER_ROLES = ("secretary", "deputy", "committee")


class TicketError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def days_for(config: Any, grade: str | None) -> int:
    """Working days allowed for a grade (`[tickets] <urgent|major|ordinary|emerging|ungraded>_days`)."""
    key = GRADE_KEYS.get(grade or "", "ungraded")
    return int(getattr(config.tickets, f"{key}_days"))


def find(session: Session, number: int) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.number == number)).first()


def get(session: Session, number: int) -> Ticket:
    ticket = find(session, number)
    if ticket is None:
        raise TicketError(texts.t("tickets.not_found", number=number))
    return ticket


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


def _event(session: Session, ticket: Ticket, action: str, actor: str, text: str = "",
           branch_id: int | None = None) -> None:
    assert ticket.id is not None  # flushed when it was created
    session.add(TicketEvent(ticket_id=ticket.id, action=action, actor=actor[:64], text=text[:500],
                            branch_id=branch_id, at=stamp(ticket)))


def _audit(session: Session, ticket: Ticket, actor: str, action: str, detail: str = "") -> None:
    audit.record(session, actor, action, f"#{ticket.number}", detail, sealed=ticket.anonymous)


def _notify(session: Session, config: Any, ticket: Ticket, people: list[Member], text: str, key: str,
            urgent: bool = False) -> None:
    """A notice to handlers (`ticket_notice`), or an urgent one (`ticket_urgent`: a ticket graded 急难)."""
    notify.members(session, config, people, text, key=key, topic="ticket_urgent" if urgent else "ticket_notice",
                   sealed=ticket.anonymous)


def _local_day(moment: dt.datetime | None) -> dt.date:
    return clock.local(moment).date() if moment else clock.today()


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
    _event(session, ticket, "created", actor)
    _audit(session, ticket, "anonymous" if anonymous else member.userid, f"ticket_{kind}")
    if kind == "problem" and not anonymous:
        pts.award(session, config, member, PointsRule.PROBLEM_REPORTED, on=clock.today(),
                  reason=texts.t("tickets.reason_reported", number=number), source=f"ticket:#{number}")
    people = handlers_of(session, ticket.branch_id)
    if people:
        notice = texts.t("tickets.new_notice", number=number, kind=label(ticket), category=ticket.category,
                         who=who(session, ticket), text=ticket.text[:300])
        _notify(session, config, ticket, people, notice, key=f"ticket:{number}:new")
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


def grade(session: Session, config: Any, actor: Member, number: int, value: str,
          branch_id: int | None = None) -> Ticket:
    if value not in GRADE_KEYS:
        raise TicketError(texts.t("tickets.bad_grade"))
    ticket = _handled(session, actor, number, branch_id)
    ticket.grade = value
    start = _local_day(ticket.created_at) if not ticket.reopened and not ticket.level else clock.today()
    ticket.due_on = clock.add_workdays(start, days_for(config, value))
    session.add(ticket)
    _event(session, ticket, "graded", actor.userid, value)
    _audit(session, ticket, actor.userid, "ticket_grade", value)
    tell_reporter(session, config, ticket, f"grade:{value}", "graded", grade=value, due=ticket.due_on.isoformat())
    if value == "急难":  # its handlers hear at once, quiet hours and 免打扰 notwithstanding
        assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
        people = [m for m in [*handlers_of(session, ticket.branch_id), assignee] if m is not None and m.id != actor.id]
        text = texts.t("tickets.urgent_notice", number=number, category=ticket.category, text=ticket.text[:300],
                       due=ticket.due_on.isoformat())
        _notify(session, config, ticket, people, text, key=f"ticket:{number}:urgent", urgent=True)
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
    _event(session, ticket, "assigned", actor.userid, f"member#{person.id}")
    _audit(session, ticket, actor.userid, "ticket_assign", f"member#{person.id}")
    if previous is not None:
        _release(session, config, ticket, previous, rounds)
    due = ticket.due_on.isoformat() if ticket.due_on else "-"
    again = "tickets.assigned_again_notice" if f"member#{person.id}" in before else "tickets.assigned_notice"
    _notify(session, config, ticket, [person], texts.t(again, number=number, due=due, rounds=rounds,
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
        _notify(session, config, ticket, [previous], note,
                key=f"ticket:{ticket.number}:unassign:{rounds}:{previous.id}")


def answer(session: Session, config: Any, actor: Member, number: int, text: str,
           branch_id: int | None = None) -> Ticket:
    ticket = _handled(session, actor, number, branch_id, assignee=True)
    _event(session, ticket, "replied", actor.userid, text)
    session.flush()
    _audit(session, ticket, actor.userid, "ticket_reply")
    count = len(session.exec(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id)).all())
    tell_reporter(session, config, ticket, f"reply:{count}", "replied", text=text[:500])
    return ticket


def close(session: Session, config: Any, actor: Member, number: int, text: str,
          branch_id: int | None = None) -> Ticket:
    ticket = _handled(session, actor, number, branch_id, assignee=True)
    ticket.status, ticket.closed_at, ticket.resolution = "closed", stamp(ticket), text[:500]
    session.add(ticket)
    _event(session, ticket, "closed", actor.userid, text)
    _audit(session, ticket, actor.userid, "ticket_close")
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
    _event(session, ticket, "adopted", actor.userid, texts.t("tickets.adopted_resolution"))
    _audit(session, ticket, actor.userid, "ticket_adopt")
    reporter = session.get(Member, ticket.reporter_id) if ticket.reporter_id else None
    if reporter is not None and reporter.id != actor.id:
        pts.award(session, config, reporter, PointsRule.SUGGESTION_ADOPTED, on=clock.today(), actor=actor.userid,
                  reason=texts.t("tickets.reason_adopted", number=number), source=f"ticket:#{number}")
    tell_reporter(session, config, ticket, "adopted", "adopted")
    return ticket


def rate(session: Session, config: Any, member: Member, ticket: Ticket, satisfied: bool) -> str:
    """The reporter's 满意 / 不满意 on a closed ticket; the first 不满意 reopens it. Returns the reply."""
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
        _event(session, ticket, "rated", actor, ticket.rating)
        return texts.t("tickets.rated_satisfied" if satisfied else "tickets.rated_final", number=number)
    ticket.status, ticket.closed_at, ticket.reopened = "open", None, ticket.reopened + 1
    ticket.due_on = clock.add_workdays(clock.today(), days_for(config, ticket.grade))
    session.add(ticket)
    _event(session, ticket, "reopened", actor)
    people = handlers_of(session, ticket.branch_id)
    assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    if assignee is not None:
        people.append(assignee)
    notice = texts.t("tickets.reopened_notice", number=number, due=ticket.due_on.isoformat())
    _notify(session, config, ticket, [p for p in people if p], notice, key=f"ticket:{number}:reopened")
    return texts.t("tickets.reopened", number=number, due=ticket.due_on.isoformat())


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
