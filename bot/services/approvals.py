"""Requests a secretary decides: 待审 lists them, 通过 N / 驳回 N 原因 decide them.

Numbers come from the one `#N` sequence shared with tickets and commitments. Each kind (make-up
check-in, leave, points adjustment, ...) is a `Kind` defined by its feature saying what approval and
rejection do, listed once in `bot.services.registry.approval_kinds()`; this module owns
the who-may-decide rules: a secretary or deputy of the member's branch, or a committee member; a
`needs_role = "committee"` request only a committee member; nobody decides their own request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot import audit, clock, seal, texts
from bot.models import Approval, CaseNumber, Member
from bot.refusal import Refusal

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class Kind:
    name: str
    label_key: str  # the messages.toml key of its label: 补签 / 请假 / 积分调整 ...
    on_approve: Callable[[Session, Approval, Member, Any], None]  # (session, request, decider, config)
    on_reject: Callable[[Session, Approval, Member, Any], None] | None = None

    @property
    def label(self) -> str:
        return texts.t(self.label_key)


def kinds() -> dict[str, Kind]:
    """Every approval kind by name (bot.services.registry lists them)."""
    from bot.services import registry

    return registry.approval_kinds()


def label(kind: str) -> str:
    """A request kind's label; an unknown kind (a kind since removed) shows its name."""
    found = kinds().get(kind)
    return found.label if found is not None else kind


class ApprovalError(Refusal):
    """A decision that cannot be made; the message is the Chinese reply."""


def next_number(session: Session, kind: str, sealed: bool = False) -> int:
    """The next `#N`; `sealed` (an anonymous report): its time is kept to the day."""
    row = CaseNumber(kind=kind, created_at=seal.day_of() if sealed else clock.now())
    session.add(row)
    session.flush()
    assert row.id is not None  # assigned by the flush
    return row.id


N = TypeVar("N")


def find_numbered(session: Session, model: type[N], number: int) -> N | None:
    """The row of `model` (a table with a `number` from `next_number`: tickets, commitments, reviews...)
    numbered `#number`, or None."""
    column: Any = model.number  # type: ignore[attr-defined]  # every numbered table has the column
    return session.exec(select(model).where(column == number)).first()


def get_numbered(session: Session, model: type[N], number: int, error: type[Refusal], key: str) -> N:
    """`find_numbered`, or `error` with the reply `key` (which may name the `{number}`) when there is none."""
    row = find_numbered(session, model, number)
    if row is None:
        raise error(texts.t(key, number=number))
    return row


def check_peer(session: Session, member: Member, row: Any, error: type[Refusal], keys: tuple[str, str, str, str],
               is_open: bool, earlier: Any) -> None:
    """`member` may act once on `row`, a numbered case about another member of their branch (a commitment's
    vote, a review's dispute): not their own case (reply `keys[0]`), same branch (`keys[1]`), the case still
    open (`is_open`, else `keys[2]`), and not done before (`earlier`, a select of their previous act, else
    `keys[3]`). Each reply may name the case's `{number}`; a refusal raises `error`."""
    own, other_branch, closed, again = keys
    checks = ((row.member_id == member.id, own), (member.branch_id != row.branch_id, other_branch),
              (not is_open, closed))
    for refused, key in checks:
        if refused:
            raise error(texts.t(key, number=row.number))
    if session.exec(earlier).first() is not None:
        raise error(texts.t(again, number=row.number))


def parse_number(text: str) -> int | None:
    m = _NUMBER.match(text.strip())
    return int(m.group(1)) if m else None


def create(session: Session, kind: str, member: Member, summary: str, payload: dict[str, Any] | None = None,
           needs_role: str = "secretary", requested_by: str | None = None) -> Approval:
    """A pending request about `member`, filed by `requested_by` (default: the member); neither of them
    may decide it."""
    if kind not in kinds():
        raise KeyError(f"unknown approval kind {kind}")
    payload = dict(payload or {})
    if requested_by:
        payload["requested_by"] = requested_by
    assert member.id is not None  # a member row from the session
    request = Approval(number=next_number(session, "request"), kind=kind, member_id=member.id,
                       branch_id=member.branch_id, summary=summary[:200],
                       payload=json.dumps(payload, ensure_ascii=False, default=str),
                       needs_role=needs_role, created_at=clock.now())
    session.add(request)
    session.flush()
    audit.record(session, requested_by or member.userid, f"request_{kind}", f"#{request.number}", summary[:200])
    return request


def payload(request: Approval) -> dict[str, Any]:
    return json.loads(request.payload or "{}")


def may_decide(decider: Member, request: Approval, branch_ids: set[int] | None = None) -> bool:
    if decider.id == request.member_id or decider.userid == payload(request).get("requested_by"):
        return False
    if decider.has_role("committee"):
        return True
    if request.needs_role == "committee":
        return False
    scope = branch_ids if branch_ids is not None else {decider.branch_id}
    return decider.has_role("secretary", "deputy") and request.branch_id in scope


def pending_for(session: Session, decider: Member, branch_id: int | None = None) -> list[Approval]:
    stmt = select(Approval).where(Approval.status == "pending").order_by(col(Approval.number))
    if branch_id is not None:
        stmt = stmt.where(Approval.branch_id == branch_id)
    elif not decider.has_role("committee"):
        stmt = stmt.where(Approval.branch_id == decider.branch_id)
    return [r for r in session.exec(stmt.limit(200)) if may_decide(decider, r)]


def decide(session: Session, config: Any, decider: Member, number: int, approve: bool, reason: str = "") -> Approval:
    request = get_numbered(session, Approval, number, ApprovalError, "approval.not_found")
    if not may_decide(decider, request):
        own = decider.id == request.member_id or decider.userid == payload(request).get("requested_by")
        key = "approval.own" if own else "approval.not_yours"
        raise ApprovalError(texts.t(key, number=number))
    if request.status != "pending":
        raise ApprovalError(texts.t("approval.already", number=number, status=texts.t(f"approval.{request.status}")))
    if not approve and not reason.strip():
        raise ApprovalError(texts.t("approval.reason_needed", number=number))
    kind = kinds().get(request.kind)
    if kind is None:
        raise ApprovalError(texts.t("approval.not_found", number=number))
    _claim_decision(session, request, decider, approve, reason)
    if approve:
        kind.on_approve(session, request, decider, config)
    elif kind.on_reject is not None:
        kind.on_reject(session, request, decider, config)
    audit.record(session, decider.userid, f"{request.status}_{request.kind}", f"#{number}", request.reason or "")
    _tell_member(session, config, request, kind)
    return request


def _claim_decision(session: Session, request: Approval, decider: Member, approve: bool, reason: str) -> None:
    """Mark the request decided only if it is still pending: a conditional UPDATE, so of two deciders at
    once exactly one wins (PostgreSQL re-checks the WHERE after the winner commits; SQLite serialises the
    writers). The loser is told that someone else decided it, and nothing of its decision is applied."""
    values = {"status": "approved" if approve else "rejected", "decided_by": decider.userid,
              "decided_at": clock.now(), "reason": reason.strip()[:500] or None}
    result = session.exec(update(Approval).where(col(Approval.id) == request.id, col(Approval.status) == "pending")
                          .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        log.info("request #%s was decided by someone else first (decider member %s)", request.number, decider.id)
        raise ApprovalError(texts.t("approval.taken", number=request.number))
    for name, value in values.items():
        set_committed_value(request, name, value)


def _tell_member(session: Session, config: Any, request: Approval, kind: Kind) -> None:
    from bot import notify

    member = session.get(Member, request.member_id)
    if member is None:
        return
    key = "approval.told_approved" if request.status == "approved" else "approval.told_rejected"
    after = f"approval.after_rejected_{kind.name}"  # what to do now: per kind, else the general line
    after = after if texts.has(after) else "approval.after_rejected"
    text = texts.t(key, number=request.number, label=kind.label, summary=request.summary,
                   reason=request.reason or "", after=texts.t(after))
    notify.members(session, config, [member], text, key=f"approval:{request.number}:{request.status}",
                   topic="decision")


def deciders(session: Session, request: Approval) -> list[Member]:
    """Who hears of a new request: every committee member for a committee request; else the secretaries and
    deputies of the member's branch, or the committee when the branch has none. Never the member or the one
    who filed it (`may_decide`)."""
    people = list(session.exec(select(Member).where(Member.active).order_by(col(Member.id))))
    committee = [m for m in people if m.has_role("committee") and may_decide(m, request)]
    if request.needs_role == "committee":
        return committee
    local = [m for m in people if m.branch_id == request.branch_id and m.has_role("secretary", "deputy")
             and may_decide(m, request)]
    return local or committee


def announce(session: Session, config: Any, request: Approval, timed_until: dt.datetime | None = None) -> int:
    """Tell the deciders of a new request (a notice, `new_request`; it also counts in `secretary_digest`).
    With `timed_until` (a leave for an event starting within 36 h: the event's start) it is a timed
    `leave_request_urgent`: not held by the daily budget, still waiting for the end of quiet hours, and
    expired at `timed_until`. Returns recipients queued."""
    from bot import notify

    people = deciders(session, request)
    if not people:
        return 0
    key = "approval.new_timed" if timed_until is not None else "approval.new_notice"
    text = texts.t(key, number=request.number, label=label(request.kind), summary=request.summary)
    topic = "new_request" if timed_until is None else "leave_request_urgent"
    return notify.members(session, config, people, text, key=f"approval:{request.number}:new", topic=topic,
                          anchor=timed_until)
