"""Operational tables: job runs, audit log, console users, leases, caches, throttles, `#N` numbers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text, text, true
from sqlmodel import Field, SQLModel

from bot.models.base import _ts, one_per


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (one_per("job_run", "job", "run_date"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    run_date: dt.date
    status: str = Field(default="running", max_length=16)  # running / done / skipped / failed
    detail: str | None = Field(default=None, max_length=500)
    started_at: dt.datetime | None = _ts()
    finished_at: dt.datetime | None = _ts()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime | None = _ts(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=128)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AdminUser(SQLModel, table=True):
    __tablename__ = "admin_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    # every console session carries the version it started with; logout, a password change and
    # deactivation bump it, so every copy of an older cookie stops working
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: dt.datetime | None = _ts()


class Lease(SQLModel, table=True):
    """Named leases (scheduler leader, token refresh) when neither Redis nor PostgreSQL locks exist."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    until: float = 0.0  # wall seconds


class KeyValue(SQLModel, table=True):
    """Small shared values: the cached access token when there is no Redis."""

    __tablename__ = "key_value"
    key: str = Field(primary_key=True, max_length=128)
    value: str = Field(sa_column=Column(Text, nullable=False))
    expires: float = 0.0  # wall seconds


class ReplyPages(SQLModel, table=True):
    """The pages still to come of a member's last long reply, served by 下一页 (see bot/paging.py)."""

    __tablename__ = "reply_pages"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    pages: str = Field(sa_column=Column(Text, nullable=False))  # JSON list, the next page first
    created_at: dt.datetime | None = _ts(nullable=False)  # restarts with every page shown


class LoginThrottle(SQLModel, table=True):
    """Failed-login counters per key (username, IP, or both) in a fixed wall-clock window."""

    __tablename__ = "login_throttle"
    key: str = Field(primary_key=True, max_length=64)
    count: int = 0
    expires: float = 0.0  # wall seconds


class CaseNumber(SQLModel, table=True):
    """The one `#N` sequence shared by tickets, commitments and requests (leave, make-up, points)."""

    __tablename__ = "case_number"
    id: int | None = Field(default=None, primary_key=True)  # N
    kind: str = Field(max_length=32)
    created_at: dt.datetime | None = _ts()
