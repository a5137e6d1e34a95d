"""Erasing a member's personal data while keeping anonymous aggregates.

The member row stays (other tables keep pointing at its numeric id, so counts and totals still add up)
but loses everything that identifies the person: the name becomes `已注销#<id>`, the userid an opaque
token, phone, openid and dates are cleared, roles drop to `member` and the member is inactive.

Tables that store the userid, openid, name or free text of a member register a hook with
`@forget_hook`; each hook gets the session and a `Forgotten` (old identifiers and the new token) and
scrubs its own rows in the same transaction. The hooks here cover the foundation tables.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlmodel import Session, select

from bot import clock
from bot.models import AuditLog, Delivery, InboundMessage, Member
from bot.services.console_sessions import end_member_sessions
from bot.services.roster_io import MemberNotFound


@dataclass(frozen=True)
class Forgotten:
    """What a hook needs to find a member's rows; hooks must never log these values."""

    member_id: int
    userid: str  # the old, lower-case userid
    openid: str | None
    name: str
    token: str  # the member's new userid: use it where a row needs some stand-in identifier

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.userid, self.openid) if a]


ForgetHook = Callable[[Session, Forgotten], None]
FORGET_HOOKS: list[ForgetHook] = []


def forget_hook(func: ForgetHook) -> ForgetHook:
    """Register `func(session, forgotten)` to run whenever a member is forgotten (once per function)."""
    if func not in FORGET_HOOKS:
        FORGET_HOOKS.append(func)
    return func


def placeholder_name(member_id: int) -> str:
    return f"已注销#{member_id}"


def forget_member(session: Session, userid: str, actor: str) -> int:
    """Erase the member's personal data and run every hook; returns the member id. The caller commits."""
    member = session.exec(select(Member).where(Member.userid == userid.strip().lower())).first()
    if member is None or member.id is None:
        raise MemberNotFound(f"no member with userid {userid.strip()!r}")
    token = f"forgotten-{secrets.token_hex(8)}"
    gone = Forgotten(member_id=member.id, userid=member.userid, openid=member.openid, name=member.name,
                     token=token)
    for hook in FORGET_HOOKS:
        hook(session, gone)
    member.userid = token
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
    session.add(AuditLog(at=clock.now(), actor=actor, action="forget", target=f"member#{member.id}",
                         detail=json.dumps({"hooks": [h.__name__ for h in FORGET_HOOKS]})))
    session.flush()
    return member.id


@forget_hook
def scrub_inbound(session: Session, gone: Forgotten) -> None:
    """Received messages: the sender becomes the token, the text is dropped."""
    session.execute(update(InboundMessage).where(InboundMessage.sender.in_(gone.addresses))
                    .values(sender=gone.token, content="", reply=None))


@forget_hook
def scrub_deliveries(session: Session, gone: Forgotten) -> None:
    """Deliveries keep their status (aggregates); queued ones are never sent."""
    pending = (Delivery.recipient.in_(gone.addresses)) & (Delivery.status == "queued")
    session.execute(update(Delivery).where(pending).values(status="expired", last_error="recipient forgotten"))
    for address, stand_in in ((gone.userid, gone.token), (gone.openid, f"{gone.token}.oa")):
        if address:
            session.execute(update(Delivery).where(Delivery.recipient == address).values(recipient=stand_in))


@forget_hook
def scrub_audit_targets(session: Session, gone: Forgotten) -> None:
    """Audit rows aimed at the member by userid/openid point at the numeric id instead."""
    session.execute(update(AuditLog).where(or_(*(AuditLog.target == a for a in gone.addresses)))
                    .values(target=f"member#{gone.member_id}"))
