"""Push to members through the outbox, each on the channel that reaches them: the one fan-out every service
uses (group the people by channel, one outbox message per channel)."""

from __future__ import annotations

import datetime as dt
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


def by_channel(people: Iterable[Member], config: Any) -> dict[str, list[str]]:
    """Recipients per channel for the active members given."""
    result: dict[str, list[str]] = {}
    for member in people:
        if member is None or not member.active:
            continue
        channel, recipient = address(member, config)
        result.setdefault(channel, []).append(recipient)
    return result


def fanout(session: Session, config: Any, people: Iterable[Member], *, topic: str, key: str,
           kind: str = "text", payload: dict[str, Any], anchor: dt.date | dt.datetime | None = None,
           created_by: str | None = None, sealed: bool = False) -> int:
    """Queue one message of kind `topic` (its delivery class and expiry: bot.outbox.classes; `anchor` the
    day or the event's start it expires by) for every active member given, one outbox message per channel
    keyed `<key>:<channel>` (idempotent). Returns the recipients queued."""
    from bot import outbox

    groups = by_channel(people, config)
    for channel, recipients in groups.items():
        outbox.enqueue(session, channel=channel, kind=kind, payload=payload, recipients=recipients, topic=topic,
                       key=f"{key}:{channel}", anchor=anchor, created_by=created_by, config=config, sealed=sealed)
    return sum(len(r) for r in groups.values())


def members(session: Session, config: Any, people: Iterable[Member], text: str, key: str, *, topic: str,
            anchor: dt.date | dt.datetime | None = None, created_by: str | None = None, sealed: bool = False) -> int:
    """`fanout` of a text. `sealed`: the message is about an anonymous report (times kept to the day)."""
    return fanout(session, config, people, topic=topic, key=key, payload={"content": text}, anchor=anchor,
                  created_by=created_by, sealed=sealed)
