"""Push a text to members through the outbox, each on the channel that reaches them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from bot.models import Member


def address(member: Member, config: Any) -> tuple[str, str]:
    """(channel, recipient): WeCom by userid (console when WeCom is not configured); a member known only
    through the Official Account is reached by openid."""
    if member.openid and not config.wecom.enabled and config.wechat.enabled:
        return "wechat", member.openid
    return "wecom", member.userid


def members(session: Session, config: Any, people: Iterable[Member], text: str, key: str,
            urgent: bool = False, created_by: str | None = None, sealed: bool = False) -> int:
    """Queue `text` for every active member given; idempotent by `key`. Returns recipients queued.
    `sealed`: the message is about an anonymous report (times kept to the day, see bot.outbox)."""
    from bot import outbox

    by_channel: dict[str, list[str]] = {}
    for member in people:
        if not member.active:
            continue
        channel, recipient = address(member, config)
        by_channel.setdefault(channel, []).append(recipient)
    for channel, recipients in by_channel.items():
        outbox.enqueue(session, channel=channel, kind="text", payload={"content": text}, recipients=recipients,
                       key=f"{key}:{channel}", urgent=urgent, created_by=created_by, config=config,
                       sealed=sealed)
    return sum(len(r) for r in by_channel.values())
