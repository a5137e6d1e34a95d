"""紧急通知 (an urgent text to every active member of a branch) and 通知 (the member's folded notices)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from bot import audit, clock, notify, texts
from bot.models import Branch, Member
from bot.outbox import digest
from bot.refusal import Refusal
from bot.services.theme_day.core import branch_members

URGENT_MAX = 1000  # characters of a 紧急通知 (the text with its header stays within 2048 bytes)


class NoticeError(Refusal):
    """A 紧急通知 that cannot go out: empty, too long, or nobody to send it to."""


def urgent(session: Session, config: Any, actor: Member, branch_id: int | None, text: str) -> int:
    """Send `text` at once (urgent class: quiet hours, the budget and 免打扰 do not hold it) to every active
    member of the branch, audited; how many it went to."""
    text = text.strip()
    if not text:
        raise NoticeError.of("outbox.urgent_empty")
    if len(text) > URGENT_MAX:
        raise NoticeError.of("outbox.urgent_too_long", max=URGENT_MAX)
    if branch_id is None or (branch := session.get(Branch, branch_id)) is None:
        raise NoticeError.of("outbox.urgent_nobody")
    people = branch_members(session, branch_id)
    if not people:
        raise NoticeError.of("outbox.urgent_nobody")
    body = texts.t("outbox.urgent_text", branch=branch.name, text=text, sender=actor.name)
    digest_of = hashlib.sha256(text.encode()).hexdigest()[:12]
    key = f"urgent:{branch.code}:{actor.userid}:{clock.now():%Y%m%d%H%M}:{digest_of}"
    count = notify.members(session, config, people, body, key, topic="urgent_notice", created_by=actor.userid)
    audit.record(session, actor.userid, "urgent_notice", f"branch:{branch.code}", f"{count} · {text[:200]}")
    return count


def folded(session: Session, config: Any, member: Member) -> list[str]:
    """通知: the member's folded notices of yesterday and today, one line each, in full."""
    recipients = [notify.address(member, config)[1], member.userid]
    return digest.listing(session, list(dict.fromkeys(recipients)), clock.now())
