"""The only place that reads the time or the workday calendar.

`now()` is business time in `[app] timezone` (frozen by `DANGJIAN_NOW` or by tests with `freeze()`);
`monotonic()` measures durations (timeouts, backoff); `wall()` is real epoch seconds for leases that
several processes compare, never frozen.

Workdays: chinese-calendar (the State Council's table, 调休 included) for the years it has; for a year it
lacks, days off are the weekend plus `holidays.China` (pinned), its "(observed)" days included, and the
official 调休 make-up Saturdays are unknown until an operator lists them in `[calendar] extra_workdays`.
`[calendar] extra_holidays` always win, then `extra_workdays`, then the tables. `calendar_status()` says
when a year lacks official data (this year, or the next one from November on).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import time
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

try:
    import chinese_calendar
except ImportError:  # pragma: no cover - a declared dependency; without it every year uses the fallback
    chinese_calendar = None

log = logging.getLogger(__name__)

_tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
_frozen: dt.datetime | None = None
_extra_holidays: frozenset[dt.date] = frozenset()
_extra_workdays: frozenset[dt.date] = frozenset()
_workdays_only: bool = True
_skipped = 0.0  # seconds `skip` moved wall() and monotonic() forward: 0 outside tests
# A context-local "now" (`as_of`): a message handled late is dated by the time it was received.
_as_of: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("clock_as_of", default=None)


def configure(
    timezone: str = "Asia/Shanghai",
    now: dt.datetime | None = None,
    extra_holidays: Iterable[dt.date] = (),
    extra_workdays: Iterable[dt.date] = (),
    workdays_only: bool = True,
) -> None:
    global _tz, _frozen, _extra_holidays, _extra_workdays, _workdays_only
    _tz = ZoneInfo(timezone)
    _frozen = now.astimezone(_tz) if now else None
    _extra_holidays = frozenset(extra_holidays)
    _extra_workdays = frozenset(extra_workdays)
    _workdays_only = workdays_only


def configure_from(config) -> None:  # config: bot.config.Config
    configure(
        config.app.timezone,
        config.now,
        config.calendar.extra_holidays,
        config.calendar.extra_workdays,
        config.calendar.workdays_only,
    )


def tz() -> ZoneInfo:
    return _tz


def freeze(moment: dt.datetime | None) -> None:
    """Pin the clock (tests, replays); None lets it run again."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=_tz)
    _frozen = moment.astimezone(_tz) if moment else None


def is_frozen() -> bool:
    return _frozen is not None


@contextlib.contextmanager
def as_of(moment: dt.datetime) -> Iterator[dt.datetime]:
    """Within the block (this thread or task only), `now()` and `today()` answer `moment`: a message
    re-run after a crash or an outage has its effects dated by the time it was received. `wall()` and
    `monotonic()` keep running (leases and timeouts are real time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_tz)
    token = _as_of.set(moment.astimezone(_tz))
    try:
        yield _as_of.get() or moment
    finally:
        _as_of.reset(token)


def now() -> dt.datetime:
    override = _as_of.get()
    if override is not None:
        return override
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(_tz)


def today() -> dt.date:
    return now().date()


def local(moment: dt.datetime) -> dt.datetime:
    """A stored datetime (naive values are UTC, as databases return them) in local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_tz)


def at(day: dt.date, hhmm: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, hhmm, tzinfo=_tz)


def monotonic() -> float:
    return time.monotonic() + _skipped


def wall() -> float:
    """Real epoch seconds, for leases shared between processes (not frozen by DANGJIAN_NOW)."""
    return time.time() + _skipped


def skip(seconds: float | None) -> None:
    """Move `wall` and `monotonic` forward in this process without waiting: a test lets a backoff or a lease
    run out at once instead of sleeping through it; None returns to real time. Never used outside tests."""
    global _skipped
    _skipped = 0.0 if seconds is None else _skipped + max(0.0, seconds)


def timestamp() -> int:
    """Epoch seconds of the business clock: the callback freshness check and reply CreateTime."""
    return int(now().timestamp())


@functools.cache
def has_official_data(year: int) -> bool:
    """Whether chinese-calendar has the State Council's table (with 调休) for `year`."""
    if chinese_calendar is None:
        return False
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.cache
def _fallback_days_off(year: int) -> dict[dt.date, str]:
    """`holidays.China` for a year chinese-calendar lacks: every entry, "(observed)" (补假) days included."""
    import holidays  # only needed for such a year; importing it costs start-up time of every command

    return dict(holidays.China(years=year, language="zh_CN").items())


def _table_workday(day: dt.date) -> bool:
    if chinese_calendar is not None and has_official_data(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5 and day not in _fallback_days_off(day.year)


def is_workday(day: dt.date) -> bool:
    """Official workday: `[calendar]` overrides, then chinese-calendar (incl. 调休 make-up days) where it has
    the year, else Monday-Friday minus `holidays.China` days off."""
    if day in _extra_holidays:
        return False
    if day in _extra_workdays:
        return True
    if not _workdays_only:
        return True
    return _table_workday(day)


def holiday_name(day: dt.date) -> str | None:
    if day in _extra_holidays:
        return None
    if chinese_calendar is not None and has_official_data(day.year):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        return name if on_holiday and name else None
    return _fallback_days_off(day.year).get(day)


def missing_year(day: dt.date) -> int | None:
    """The year chinese-calendar lacks that matters on `day`: `day`'s own, or from November the next."""
    if not has_official_data(day.year):
        return day.year
    if day.month >= 11 and not has_official_data(day.year + 1):
        return day.year + 1
    return None


def calendar_status(day: dt.date | None = None) -> str:
    """"ok", or "missing YYYY" (see `missing_year`): what /healthz, the console and `jobs` report."""
    year = missing_year(day or today())
    return "ok" if year is None else f"missing {year}"


def calendar_warning(day: dt.date | None = None) -> str | None:
    """The operator's warning line (English, for logs and stderr), None when the calendar is complete."""
    year = missing_year(day or today())
    if year is None:
        return None
    return (f"calendar: chinese-calendar has no official data for {year}; days off in {year} come from "
            f"holidays.China (observed days included) and 调休 make-up workdays are unknown: list them in "
            f"[calendar] extra_workdays (and any missing day off in extra_holidays) once the State Council "
            f"publishes them, or upgrade chinese-calendar")


def warn_at_startup() -> None:
    """Log the calendar warning once at the start of a long-running process (serve, demo, scheduler, worker)."""
    warning = calendar_warning()
    if warning:
        log.warning("%s", warning)


def next_workday(day: dt.date, include: bool = False) -> dt.date:
    current = day if include else day + dt.timedelta(days=1)
    for _ in range(400):
        if is_workday(current):
            return current
        current += dt.timedelta(days=1)
    raise RuntimeError(f"no workday within 400 days after {day}")


def previous_workday(day: dt.date) -> dt.date:
    current = day - dt.timedelta(days=1)
    for _ in range(400):
        if is_workday(current):
            return current
        current -= dt.timedelta(days=1)
    raise RuntimeError(f"no workday within 400 days before {day}")


def add_workdays(day: dt.date, count: int) -> dt.date:
    current = day
    for _ in range(count):
        current = next_workday(current)
    return current
