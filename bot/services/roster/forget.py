"""Erasing a member's personal data while keeping anonymous aggregates.

The member row stays (other tables keep pointing at its numeric id, so counts and totals still add up)
but loses everything that identifies the person: the name becomes `已注销#<id>`, the userid an opaque
token, phone, openid and dates are cleared, roles drop to `member` and the member is inactive.

Tables that store the member's own texts by member id have a hook, listed in
`bot.services.registry.forget_hooks()`; each hook gets the
session and a `Forgotten` (old identifiers, the new token, the member's own sentences) and scrubs its rows in
the same transaction through `gone.scrub(...)`, which records what changed. Then `sweep.sweep` removes
the userid (any case), openid, name, phone and those sentences from every text column of every table (copies
in notices, summaries, audit details, other members' messages). Sealed (anonymous) reports are out of reach
by design: nothing here computes or searches seals. `forget` prints one `table=N` line per table changed.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel import Session, col

from bot import clock
from bot.models import (
    Approval,
    AuditLog,
    Delivery,
    InboundMessage,
    Member,
    Reflection,
    ReviewDispute,
    StudyAnswer,
    TicketEvent,
)
from bot.services.console_sessions import end_member_sessions
from bot.services.roster.io import MemberNotFound
from bot.services.roster.sweep import ERASED_TEXT, Secret, sweep

MIN_SENTENCE = 4  # shorter texts ("1", "已学", "一般") are not searched for elsewhere
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Forgotten:
    """What a hook needs to find a member's rows; hooks must never log these values."""

    member_id: int
    userid: str  # the old, lower-case userid
    openid: str | None
    name: str
    token: str  # the member's new userid: use it where a row needs some stand-in identifier
    phone: str | None = None
    words: set[str] = field(default_factory=set)  # the member's own sentences, searched for everywhere
    changed: dict[str, set] = field(default_factory=dict)  # table -> primary keys changed

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.userid, self.openid) if a]

    def matches(self, column: Any) -> Any:
        """`column` holds one of the member's addresses, in any case."""
        return func.lower(column).in_([a.lower() for a in self.addresses])

    def scrub(self, session: Session, model: Any, where: Any, **values: Any) -> None:
        """UPDATE model SET values WHERE where, remembering the rows changed."""
        table = model.__table__
        key = table.c.id
        ids = list(session.execute(select(key).where(where)).scalars())
        if ids:
            session.execute(update(model).where(key.in_(ids)).values(**values))
            self.changed.setdefault(table.name, set()).update((i,) for i in ids)

    def keep_words(self, texts: Any) -> None:
        self.words.update(t.strip() for t in texts if t and len(t.strip()) >= MIN_SENTENCE)


ForgetHook = Callable[[Session, Forgotten], None]


TOKEN_PREFIX = "forgotten-"


def is_forgotten(member: Member) -> bool:
    return member.userid.startswith(TOKEN_PREFIX)


def placeholder_name(member_id: int) -> str:
    return f"已注销#{member_id}"


def forget(session: Session, userid: str, actor: str) -> tuple[int, dict[str, int]]:
    """Erase the member's personal data everywhere; returns (member id, rows changed per table). The caller
    commits."""
    wanted = userid.strip().lower()
    member = session.execute(select(Member).where(col(Member.userid) == wanted)).scalars().first()
    if member is None or member.id is None or is_forgotten(member):
        raise MemberNotFound(f"no member with userid {userid.strip()!r}")
    gone = Forgotten(member_id=member.id, userid=member.userid, openid=member.openid, name=member.name,
                     token=f"{TOKEN_PREFIX}{secrets.token_hex(8)}", phone=member.phone)
    _collect_words(session, gone)
    from bot.services import registry

    for hook in registry.forget_hooks():
        hook(session, gone)
    names = session.execute(select(col(Member.name)).where(col(Member.id) != member.id)).scalars()
    others = [n for n in names if n]
    found = [Secret(gone.userid, gone.token, token=True), Secret(gone.name, placeholder_name(member.id))]
    if gone.openid:
        found.append(Secret(gone.openid, f"{gone.token}.oa", token=True))
    if gone.phone and len(gone.phone) >= 6:
        found.append(Secret(gone.phone, "***", token=True))
    found += [Secret(w, ERASED_TEXT) for w in gone.words]
    sweep(session, found, others, gone.changed)
    member.userid = gone.token
    member.name = placeholder_name(member.id)
    member.phone = None
    member.openid = None
    member.joined_on = None
    member.full_member_on = None
    member.roles = "member"
    member.active = False
    member.welcomed_at = None
    member.updated_at = clock.now()
    session.add(member)
    session.flush()
    end_member_sessions(session, [member.id])
    counts = {"member": 1, **{t: len(keys) for t, keys in sorted(gone.changed.items())}}
    session.add(AuditLog(at=clock.now(), actor=actor, action="forget", target=f"member#{member.id}",
                         detail=json.dumps({"tables": counts})))
    session.flush()
    return member.id, counts


def forget_member(session: Session, userid: str, actor: str) -> int:
    """`forget`, returning only the member id."""
    return forget(session, userid, actor)[0]


def _collect_words(session: Session, gone: Forgotten) -> None:
    """The member's own sentences: what they wrote (study answers, reflections, disputes, progress reports,
    ticket replies and notes, request reasons) and the free text of their messages in the inbound log.
    Texts kept by id elsewhere (tickets, commitments, reviews) are added by their modules' hooks."""
    mid = gone.member_id

    def column_values(column: str | None, where: Any) -> Any:
        return session.execute(select(col(column)).where(where)).scalars()

    gone.keep_words(column_values(StudyAnswer.text, col(StudyAnswer.member_id) == mid))
    gone.keep_words(column_values(Reflection.text, col(Reflection.member_id) == mid))
    gone.keep_words(column_values(ReviewDispute.text, col(ReviewDispute.member_id) == mid))
    gone.keep_words(column_values(TicketEvent.text, gone.matches(TicketEvent.actor)))
    for payload in session.execute(select(col(Approval.payload)).where(col(Approval.member_id) == mid)).scalars():
        try:
            data = json.loads(payload or "{}")
        except ValueError:
            continue
        gone.keep_words([str(data.get("reason") or "")])
    contents = column_values(InboundMessage.content, gone.matches(InboundMessage.sender))
    for content in contents:
        parts = (content or "").split()
        for k in range(1, min(len(parts), 4)):  # the text after the command word, a number, a member...
            tail = " ".join(parts[k:])
            if len(tail) >= MIN_SENTENCE + 1 and _CJK.search(tail):
                gone.words.add(tail)


def scrub_inbound(session: Session, gone: Forgotten) -> None:
    """Received messages from the member (their userid or openid in any case): the sender becomes the token,
    the text and the stored reply are dropped."""
    gone.scrub(session, InboundMessage, gone.matches(InboundMessage.sender), sender=gone.token, content="",
               reply=None)


def scrub_deliveries(session: Session, gone: Forgotten) -> None:
    """Deliveries keep their status (aggregates); queued ones are never sent. The sweep renames the recipient."""
    gone.scrub(session, Delivery, gone.matches(Delivery.recipient) & (Delivery.status == "queued"),
               status="expired", last_error="recipient forgotten")


def scrub_own_texts(session: Session, gone: Forgotten) -> None:
    """The member's answers, reflections, disputes and requests keep their facts but lose their words;
    their pending requests are withdrawn."""
    mid = gone.member_id
    gone.scrub(session, StudyAnswer, StudyAnswer.member_id == mid, text="")
    gone.scrub(session, Reflection, Reflection.member_id == mid, text=ERASED_TEXT)
    gone.scrub(session, ReviewDispute, ReviewDispute.member_id == mid, text="")
    gone.scrub(session, Approval, (Approval.member_id == mid) & (Approval.status == "pending"), status="withdrawn")
    gone.scrub(session, Approval, Approval.member_id == mid, summary=ERASED_TEXT)
    gone.scrub(session, TicketEvent, gone.matches(TicketEvent.actor) & (TicketEvent.text != ""), text=ERASED_TEXT)


def scrub_audit_targets(session: Session, gone: Forgotten) -> None:
    """Audit rows aimed at the member by userid/openid point at the numeric id instead."""
    gone.scrub(session, AuditLog, or_(gone.matches(AuditLog.target)), target=f"member#{gone.member_id}")
