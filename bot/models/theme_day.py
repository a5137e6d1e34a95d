"""Secretary tasks, theme party days, attendance, duty roster."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.enums import ThemeDayStatus, check_sql
from bot.models.base import _ts, one_per

THEME_DAY_STATUSES = tuple(s.value for s in ThemeDayStatus)


class Task(SQLModel, table=True):
    """A task for a secretary (谈心谈话 on a political birthday, follow-up after absences), done by `完成 N`.
    `key` makes creating the same task twice a no-op."""

    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32)  # talk / followup
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)  # whom it is about
    summary: str = Field(max_length=200)
    status: str = Field(default="open", max_length=16)  # open / done
    created_at: dt.datetime | None = _ts()
    done_at: dt.datetime | None = _ts()
    done_by: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)


class ThemeDay(SQLModel, table=True):
    """主题党日: one event of a branch, numbered from the shared `#N` sequence."""

    __tablename__ = "theme_day"
    __table_args__ = (CheckConstraint(check_sql("status", ThemeDayStatus), name="ck_theme_day_status"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    starts_at: dt.datetime = _ts(nullable=False, index=True)
    place: str = Field(max_length=64)
    topic: str = Field(max_length=200)
    status: str = Field(default="scheduled", max_length=16)  # scheduled / postponed / cancelled / held
    online: bool = False
    link: str | None = Field(default=None, max_length=500)  # an online event's meeting link (https://…)
    signin_code: str | None = Field(default=None, max_length=8)
    agenda: str | None = Field(default=None, max_length=500)  # ';'-joined 学/会/做/工/课, each "项" or "项:备注"
    guests: str | None = Field(default=None, max_length=200)
    created_by: str = Field(default="", max_length=64)
    created_at: dt.datetime | None = _ts()
    closed_at: dt.datetime | None = _ts()  # theme_day_close recorded the attendance


class Attendance(SQLModel, table=True):
    """One member at one theme day: RSVP (参加/请假), sign-in, and the result written when it closes."""

    __tablename__ = "theme_day_attendance"
    __table_args__ = (UniqueConstraint("event_id", "member_id", name="uq_attendance_event_member"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="theme_day.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    rsvp: str | None = Field(default=None, max_length=16)  # going / leave_pending / leave / leave_rejected
    leave_number: int | None = None
    signed_at: dt.datetime | None = _ts()
    late: bool = False
    result: str | None = Field(default=None, max_length=16)  # present / late / excused / absent


class AttendanceAlert(SQLModel, table=True):
    """An attendance rule a member tripped in a year (each alert once)."""

    __tablename__ = "attendance_alert"
    __table_args__ = (one_per("attendance_alert", "member_id", "year", "rule"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    year: int
    rule: str = Field(max_length=32)  # consecutive / cumulative / late
    count: int = 0
    task_number: int | None = None
    at: dt.datetime | None = _ts()


class DutyShift(SQLModel, table=True):
    """值班: a member on duty on a date (imported with `dangjian import-duty`)."""

    __tablename__ = "duty_shift"
    __table_args__ = (one_per("duty_shift", "date", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
