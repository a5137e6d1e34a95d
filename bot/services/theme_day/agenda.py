"""Theme day details beside the core flow: the branch's effective rule (`[theme_day]` or its per-branch
override), the fixed day's suggested date, parsing a start time, and the agenda (党日五件事 学/会/做/工/课) and guests.

The agenda is stored as a ';'-joined subset of 学;会;做;工;课 in that order, each item optionally followed
by ":备注" (e.g. "学:学习党章;课:书记讲党课"). Chat takes them from the topic: `… 主题 议程：学 会 嘉宾：张三`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot import clock, texts
from bot.models import Branch, ThemeDay
from bot.refusal import Refusal

RULES = ("fixed", "free")
ITEMS = ("学", "会", "做", "工", "课")
MAX_AGENDA, MAX_GUESTS, MAX_NOTE, MAX_LINK = 500, 200, 60, 500
ONLINE_PLACES = ("线上", "网上", "线上线下", "online", "视频会议")
_LINK = re.compile(r"https?://[^\s，、]+", re.IGNORECASE)
_MARKERS = re.compile(r"\s*(议程|嘉宾)\s*[:：]\s*")


class ThemeDayError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def parse_when(date_text: str, time_text: str) -> dt.datetime:
    """A local date and HH:MM in the future, else ThemeDayError."""
    try:
        day = dt.date.fromisoformat(date_text)
        hh, mm = time_text.split(":")
        moment = clock.at(day, dt.time(int(hh), int(mm)))
    except ValueError:
        raise ThemeDayError(texts.t("theme_day.bad_time")) from None
    if moment <= clock.now():
        raise ThemeDayError(texts.t("theme_day.past_time", when=moment.strftime("%Y-%m-%d %H:%M")))
    return moment


def past_check(moment: dt.datetime) -> dt.datetime:
    """`moment` when it is in the future, else ThemeDayError saying it is past."""
    if moment <= clock.now():
        raise ThemeDayError(texts.t("theme_day.past_time", when=moment.strftime("%Y-%m-%d %H:%M")))
    return moment


def branch_rule(config: Any, branch: Branch | None) -> tuple[str, int, int]:
    """(rule, day, limit_day) for the branch: each override that is set wins over `[theme_day]`."""
    conf = config.theme_day
    if branch is None:
        return conf.rule, int(conf.day), int(conf.limit_day)
    rule = branch.theme_day_rule if branch.theme_day_rule in RULES else conf.rule
    day = branch.theme_day_day if branch.theme_day_day and 1 <= branch.theme_day_day <= 28 else conf.day
    limit = (branch.theme_day_limit_day if branch.theme_day_limit_day and 1 <= branch.theme_day_limit_day <= 28
             else conf.limit_day)
    return rule, int(day), int(limit)


def fixed_date(day: int, after: dt.date) -> dt.date:
    """The fixed day in `after`'s month, or the next month's when that one is already past."""
    this = after.replace(day=day)
    if this >= after:
        return this
    return (after.replace(day=1) + dt.timedelta(days=32)).replace(day=day)


def off_rule_note(config: Any, branch: Branch | None, starts_at: dt.datetime) -> str:
    """A gentle note when a fixed-rule branch publishes on another day (never a refusal); else ""."""
    rule, day, _ = branch_rule(config, branch)
    on = clock.local(starts_at).date()
    if rule != "fixed" or on.day == day:
        return ""
    suggested = fixed_date(day, clock.today()) if on.month == clock.today().month else on.replace(day=day)
    return texts.t("theme_day.off_rule_note", day=day, suggested=suggested.isoformat())


def clean_agenda(entries: list[tuple[str, str]]) -> str | None:
    """[(item, note)] → the stored text (known items only, each once, in 学会做工课 order); None if empty."""
    notes: dict[str, str] = {}
    for item, note in entries:
        item = item.strip()
        if item in ITEMS and item not in notes:
            notes[item] = re.sub(r"[;:：\s]+", " ", note).strip()[:MAX_NOTE]
    parts = [f"{i}:{notes[i]}" if notes[i] else i for i in ITEMS if i in notes]
    return ";".join(parts)[:MAX_AGENDA] or None


def parse_agenda(text: str) -> str | None:
    """Chat form: "学 会 课" or "学（学习党章）、课" → stored text."""
    entries = re.findall(r"([学会做工课])\s*(?:[（(]([^）)]*)[）)])?", text or "")
    return clean_agenda([(item, note or "") for item, note in entries])


def split_topic(text: str) -> tuple[str, str | None, str | None]:
    """`主题 议程：学 会 嘉宾：张三` → (topic, agenda, guests)."""
    pieces = _MARKERS.split(text)
    topic, agenda, guests = pieces[0].strip(), None, None
    for marker, value in zip(pieces[1::2], pieces[2::2], strict=False):
        if marker == "议程":
            agenda = parse_agenda(value)
        else:
            guests = clean_guests(value)
    return topic, agenda, guests


def clean_guests(text: str | None) -> str | None:
    value = re.sub(r"\s+", " ", text or "").strip()
    return value[:MAX_GUESTS] or None


def agenda_text(agenda: str | None) -> str:
    """Stored text → "学（学习党章）、会、课"."""
    out = []
    for part in (agenda or "").split(";"):
        item, _, note = part.partition(":")
        if item:
            out.append(f"{item}（{note}）" if note else item)
    return "、".join(out)


def take_link(place: str, rest: str) -> tuple[str, str | None, str]:
    """(place, link, topic) of `地点 主题`: an online event's link is the place itself (`https://… 主题`, the
    place is then 线上) or the first token after the place (`线上 https://… 主题`)."""
    if _LINK.fullmatch(place):
        return texts.t("theme_day.online_place"), place[:MAX_LINK], rest
    head, *tail = re.split(r"[\s,，、]+", rest, maxsplit=1)
    if _LINK.fullmatch(head):
        return place, head[:MAX_LINK], "".join(tail).strip()
    return place, None, rest


def online_text(event: ThemeDay) -> str:
    """What a notice adds after the place for an online event: the note and the meeting link; else ""."""
    note = texts.t("theme_day.online_note") if event.online and event.place.lower() not in ONLINE_PLACES else ""
    return note + (f"\n{texts.t('theme_day.link_line', link=event.link)}" if event.link else "")


def detail_lines(event: ThemeDay) -> list[str]:
    """议程 / 嘉宾 lines for notices and 出勤 (none when unset)."""
    lines = []
    if event.agenda:
        lines.append(texts.t("theme_day.agenda_line", agenda=agenda_text(event.agenda)))
    if event.guests:
        lines.append(texts.t("theme_day.guests_line", guests=event.guests))
    return lines
