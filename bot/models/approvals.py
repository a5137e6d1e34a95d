"""Requests a secretary or committee member decides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field

from bot.enums import ApprovalStatus, check_sql
from bot.models.base import NumberedCase, _ts


class Approval(NumberedCase, table=True):
    """A request a secretary decides with 通过/驳回: its kind's module knows what approval does."""

    __table_args__ = (Index("ix_approval_pending", "branch_id", "status"),
                      CheckConstraint(check_sql("status", ApprovalStatus), name="ck_approval_status"))
    kind: str = Field(max_length=32)  # makeup / leave / points / commitment / ...
    member_id: int = Field(foreign_key="member.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    summary: str = Field(max_length=200)  # one line shown in 待审
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON
    needs_role: str = Field(default="secretary", max_length=32)  # secretary / committee
    status: str = Field(default="pending", max_length=16)  # pending / approved / rejected / withdrawn
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: dt.datetime | None = _ts()
    reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime | None = _ts()
