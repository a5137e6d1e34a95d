"""Branches and members (the roster)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, text
from sqlmodel import Field, SQLModel

from bot.enums import MemberType, Role, check_sql
from bot.models.base import _ts

ROLES = tuple(r.value for r in Role)
MEMBER_TYPES = tuple(t.value for t in MemberType)
BRANCH_LEVELS = ("branch", "general_branch", "committee")


class Branch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128)
    level: str = Field(default="branch", max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="branch.id")
    push_enabled: bool = True  # per-branch opt-out of the morning push
    ranking_enabled: bool | None = None  # None: [points] ranking
    theme_day_rule: str | None = Field(default=None, max_length=20)
    theme_day_day: int | None = None
    theme_day_limit_day: int | None = None


class Member(SQLModel, table=True):
    __table_args__ = (CheckConstraint(check_sql("member_type", MemberType), name="ck_member_member_type"),)
    id: int | None = Field(default=None, primary_key=True)
    userid: str = Field(max_length=64, unique=True, index=True)  # stored lower-case
    name: str = Field(max_length=64)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    roles: str = Field(default="member", max_length=200)  # ';'-separated
    member_type: str = Field(default="regular", max_length=20)
    joined_on: dt.date | None = None
    full_member_on: dt.date | None = None
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True
    # bumped when the member is deactivated, loses a role or is forgotten: ends their console sessions
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    openid: str | None = Field(default=None, max_length=64, unique=True)
    do_not_disturb: bool = False
    birthday_optout: bool = False
    welcomed_at: dt.datetime | None = _ts()
    created_at: dt.datetime | None = _ts()
    updated_at: dt.datetime | None = _ts()

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(";") if r)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))
