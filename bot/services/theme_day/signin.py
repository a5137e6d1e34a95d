"""主题党日 sign-in and turnout: 签到码 (the 4-digit code of the branch's current event), 签到 (with the late flag
and the wrong-code limit: MAX_WRONG_CODES per member and event), 出勤 (who came, late, on leave, missing)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from bot import audit, clock, texts
from bot.models import Attendance, AuditLog, Member, ThemeDay
from bot.services.theme_day.agenda import ThemeDayError
from bot.services.theme_day.core import MAX_WRONG_CODES, branch_members, current, last_started, row, window


@dataclass(frozen=True)
class SigninCode:
    """签到码: the event, its code and the window in which it is accepted (local times)."""
    event: ThemeDay
    code: str
    opens: dt.datetime
    closes: dt.datetime


def signin_code(session: Session, config: Any, branch_id: int | None) -> SigninCode:
    event = current(session, config, branch_id)
    if event is None:
        raise ThemeDayError(texts.t("theme_day.none_upcoming"))
    if not event.signin_code:
        event.signin_code = f"{secrets.randbelow(10000):04d}"
        session.add(event)
    opens, closes = window(config, event)
    return SigninCode(event, event.signin_code, opens, closes)


@dataclass(frozen=True)
class SignIn:
    """签到's outcome: `again` when the member had signed in already (at `signed_at`), else `late` or on time."""
    event: ThemeDay
    signed_at: dt.datetime
    late: bool
    again: bool


def sign_in(session: Session, config: Any, member: Member, code: str) -> SignIn:
    code = code.strip()
    if not code:
        raise ThemeDayError(texts.t("theme_day.signin_no_code"))
    event = current(session, config, member.branch_id)
    if event is None:
        raise ThemeDayError(texts.t("theme_day.signin_none"))
    opens, _ = window(config, event)
    now = clock.now()
    if now < opens:
        raise ThemeDayError(texts.t("theme_day.signin_not_open", number=event.number,
                                    opens=opens.strftime("%m-%d %H:%M")))
    if not event.signin_code:
        raise ThemeDayError(texts.t("theme_day.no_code"))
    target = f"#{event.number}"
    wrong = select(func.count()).select_from(AuditLog).where(
        AuditLog.actor == member.userid, AuditLog.action == "theme_day_signin_wrong", AuditLog.target == target)
    if session.exec(wrong).one() >= MAX_WRONG_CODES:
        raise ThemeDayError(texts.t("theme_day.signin_locked"))
    if not secrets.compare_digest(code, event.signin_code):
        audit.record(session, member.userid, "theme_day_signin_wrong", target, code[:8])
        raise ThemeDayError(texts.t("theme_day.signin_wrong"))
    entry = row(session, event, member)
    if entry.signed_at is not None:
        return SignIn(event, entry.signed_at, bool(entry.late), again=True)
    late_after = clock.local(event.starts_at) + dt.timedelta(minutes=config.theme_day.late_after_min)
    entry.signed_at, entry.late = now, now > late_after
    session.add(entry)
    return SignIn(event, now, entry.late, again=False)


@dataclass(frozen=True)
class Turnout:
    """出勤 of one event: who signed in (and of them who was late), who was on leave, who is missing."""
    event: ThemeDay
    present: tuple[Member, ...]
    late: tuple[Member, ...]
    leave: tuple[Member, ...]
    missing: tuple[Member, ...]
    total: int


def turnout(session: Session, branch_id: int | None) -> Turnout | None:
    """出勤 of the branch's last started event; None when there is none."""
    event = last_started(session, branch_id)
    if event is None:
        return None
    attendance = session.exec(select(Attendance).where(Attendance.event_id == event.id))
    rows: dict[int | None, Attendance] = {a.member_id: a for a in attendance}
    people = branch_members(session, event.branch_id)
    present = [m for m in people if m.id in rows and rows[m.id].signed_at is not None]
    late = [m for m in present if rows[m.id].late]
    leave = [m for m in people if m.id in rows and rows[m.id].rsvp == "leave" and m not in present]
    missing = [m for m in people if m not in present and m not in leave]
    return Turnout(event, tuple(present), tuple(late), tuple(leave), tuple(missing), len(people))
