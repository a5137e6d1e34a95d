"""Push to members through the outbox, each on the channel that reaches them: the one fan-out every service
uses (group the people by channel, one outbox message per channel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from bot.models import Member


def openid_first(config: Any) -> bool:
    """Only the Official Account is configured: a member with an openid is reached there."""
    return not config.wecom.enabled and config.wechat.enabled


def address(member: Member, config: Any) -> tuple[str, str]:
    """(channel, recipient): WeCom by userid (console when WeCom is not configured); a member known only
    through the Official Account is reached by openid."""
    if member.openid and openid_first(config):
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


def fanout_query(session: Session, config: Any, member_ids: Any, *, topic: str, key: str, kind: str = "text",
                 payload: dict[str, Any], anchor: dt.date | dt.datetime | None = None,
                 created_by: str | None = None) -> int:
    """`fanout` to the active members whose ids a query selects (`member_ids`: a select of Member.id), set-based:
    each channel's delivery rows are written by one INSERT ... SELECT (bot.outbox.bulk), no member is loaded.
    Same channels, keys and outcome as `fanout`; returns the recipients."""
    from sqlalchemy import and_, func, not_, select, true
    from sqlmodel import col

    from bot.outbox.bulk import enqueue_select

    chosen = and_(col(Member.id).in_(member_ids), col(Member.active))
    channels: dict[str, tuple[Any, Any]] = {"wecom": (col(Member.userid), true())}
    if openid_first(config):  # as `address`: the openid when there is one
        has_openid = and_(col(Member.openid).is_not(None), col(Member.openid) != "")
        channels = {"wecom": (col(Member.userid), not_(has_openid)), "wechat": (col(Member.openid), has_openid)}
    total = 0
    for channel, (column, where) in channels.items():
        count = int(session.execute(select(func.count()).select_from(Member).where(chosen, where)).scalar_one())
        if not count:
            continue
        recipients = select(column, col(Member.do_not_disturb)).where(chosen, where).order_by(col(Member.id))
        enqueue_select(session, channel=channel, kind=kind, payload=payload, recipients=recipients, topic=topic,
                       key=f"{key}:{channel}", anchor=anchor, created_by=created_by, config=config)
        total += count
    return total
