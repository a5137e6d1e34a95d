"""Dates and times as members write them (CONTRACT.md "Chat input"). Pure functions, no database.

Dates: `2026-11-23`, `2026/11/23`, `2026.11.23`, `2026年11月23日`, `11月23日`, `11-23`, `11/23`, `今天`,
`昨天`, `明天`. A date without a year is, for past acts, the latest such date before today and, for events,
the earliest such date not in the past. Times: `9:00`, `09:00`, `9点`, `上午9点`, `下午2点半`, `14点30`;
an event hour from 1 to 6 without 上午/下午 is afternoon. `take_when` reads a date and a time from the
start of a text, written together (`12月5日下午2点半`) or apart (`2026-12-05 14:30`).
"""

from __future__ import annotations

import datetime as dt
import re

from bot import texts
from bot.refusal import Refusal

_RELATIVE = {"今天": 0, "昨天": -1, "明天": 1}
_DATE = (r"(?:(?P<y>\d{4})(?P<s1>[-/.])(?P<m>\d{1,2})(?P=s1)(?P<d>\d{1,2})"
         r"|(?P<y2>\d{4})年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})[日号]?"
         r"|(?P<m3>\d{1,2})月(?P<d3>\d{1,2})[日号]?"
         r"|(?P<m4>\d{1,2})[-/](?P<d4>\d{1,2})"
         r"|(?P<rel>今天|昨天|明天))")
_TIME = (r"(?P<ap>上午|早上|中午|下午|晚上)?(?P<h>\d{1,2})"
         r"(?::(?P<mi>\d{2})|点(?:(?P<half>半)|(?P<mi2>\d{1,2})分?)?)")
_DATE_RE = re.compile(_DATE)
_TIME_RE = re.compile(_TIME)
_WHEN_RE = re.compile(rf"(?P<date>{_DATE})[\sT,、]*(?P<time>{_TIME})(?=$|[\s,、])[\s,、]*")
_AFTERNOON = ("下午", "晚上")


class ParseError(Refusal, ValueError):
    """The text is not a date or time; the message is the Chinese reply."""


def parse_date(text: str, today: dt.date, past: bool) -> dt.date:
    """`text` as a date; `past` picks the year of a yearless date (see the module docstring)."""
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise ParseError(texts.t("parse.bad_date", text=text.strip()))
    return _date_of(m, text.strip(), today, past)


def _date_of(m: re.Match[str], text: str, today: dt.date, past: bool) -> dt.date:
    if m.group("rel"):
        return today + dt.timedelta(days=_RELATIVE[m.group("rel")])
    year = m.group("y") or m.group("y2")
    month = int(m.group("m") or m.group("m2") or m.group("m3") or m.group("m4"))
    day = int(m.group("d") or m.group("d2") or m.group("d3") or m.group("d4"))
    if year is not None:
        try:
            return dt.date(int(year), month, day)
        except ValueError:
            raise ParseError(texts.t("parse.no_such_date", text=text)) from None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ParseError(texts.t("parse.no_such_date", text=text))
    step = -1 if past else 1
    for offset in range(9):  # 2月29日 comes back within 8 years
        try:
            candidate = dt.date(today.year + step * offset, month, day)
        except ValueError:
            continue
        if (candidate < today) if past else (candidate >= today):
            return candidate
    raise ParseError(texts.t("parse.no_such_date", text=text))


def parse_time(text: str, event: bool) -> dt.time:
    """`text` as a time of day; for an `event`, a bare hour from 1 to 6 is afternoon."""
    m = _TIME_RE.fullmatch(text.strip())
    if m is None:
        raise ParseError(texts.t("parse.bad_time", text=text.strip()))
    return _time_of(m, text.strip(), event)


def _time_of(m: re.Match[str], text: str, event: bool) -> dt.time:
    hour = int(m.group("h"))
    minute = 30 if m.group("half") else int(m.group("mi") or m.group("mi2") or 0)
    ap = m.group("ap")
    if ap in _AFTERNOON or (ap == "中午" and hour < 6):
        if hour > 12:
            raise ParseError(texts.t("parse.bad_time", text=text))
        hour = hour % 12 + 12
    elif ap in ("上午", "早上"):
        if hour > 12:
            raise ParseError(texts.t("parse.bad_time", text=text))
    elif ap is None and event and 1 <= hour <= 6:
        hour += 12
    if hour > 23 or minute > 59:
        raise ParseError(texts.t("parse.bad_time", text=text))
    return dt.time(hour, minute)


def take_when(text: str, today: dt.date) -> tuple[dt.date, dt.time, str] | None:
    """An event's date and time at the start of `text` and the rest of it, or None when `text` does not
    start with a date followed by a time. Raises ParseError for a date or time that does not exist."""
    m = _WHEN_RE.match(text.strip())
    if m is None:
        return None
    day = _date_of(m, m.group("date"), today, past=False)  # the combined match carries both parts' groups
    return day, _time_of(m, m.group("time"), event=True), text.strip()[m.end():]
