"""Editing an announced theme day's agenda (学 会 做 工 课, with notes) and guests (the console's 议程
form). The event must still be open; the change is audited and the branch told the new agenda once
(deduplicated by the agenda's content, so saving the same agenda twice sends nothing new)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from bot import audit
from bot.models import ThemeDay
from bot.services.theme_day import core as theme_day
from bot.services.theme_day.agenda import ThemeDayError, agenda_text


def edit(session: Session, config: Any, actor: str, event: ThemeDay, agenda: str | None,
         guests: str | None) -> int:
    """Save the agenda and guests; returns how many members were told (0 when nothing changed)."""
    if event.status not in theme_day.OPEN or event.closed_at is not None:
        raise ThemeDayError(f"#{event.number} 已结束或已取消，不能再改议程。")
    if (event.agenda, event.guests) == (agenda, guests):
        return 0
    event.agenda, event.guests = agenda, guests
    session.add(event)
    shown = agenda_text(agenda) or "（无）"
    audit.record(session, actor, "theme_day_agenda", f"#{event.number}", f"议程 {shown}; 嘉宾 {guests or '-'}")
    text = (f"【主题党日议程更新】#{event.number} {event.topic}（{theme_day.when(event)}）\n议程：{shown}"
            + (f"\n嘉宾：{guests}" if guests else ""))
    digest = hashlib.sha256(f"{agenda}|{guests}".encode()).hexdigest()[:12]
    return theme_day.push(session, config, event, theme_day.branch_members(session, event.branch_id), text,
                          f"theme_day:{event.number}:agenda:{digest}", topic="theme_day_publish",
                          anchor=event.starts_at)
