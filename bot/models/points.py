"""The points ledger and vetoes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import _ts


class LedgerEntry(SQLModel, table=True):
    """One points fact, never updated or deleted: a correction is a new entry with its own reason and actor.
    `period` is the date of the act (caps apply to it); `year` is its year, the scheme year it counts in."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_member_year", "member_id", "year"),
                      Index("ix_ledger_member_rule_period", "member_id", "rule", "period"),
                      # covering: points tables and the annual report read the index only (migration 0018_perf)
                      Index("ix_ledger_year_member_category_points", "year", "member_id", "category", "points"))
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    rule: str = Field(max_length=64)
    category: str = Field(max_length=32)
    points: int = 0
    reason: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=128)  # e.g. study:2026-11-25, approval:#12, chat
    actor: str = Field(default="system", max_length=64)
    at: dt.datetime | None = _ts(index=True)
    period: dt.date
    year: int


class Veto(SQLModel, table=True):
    """一票否决: the member's year is unqualified; every ledger entry stays."""

    __table_args__ = (UniqueConstraint("member_id", "year", name="uq_veto_member_year"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    year: int
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=64)
    at: dt.datetime | None = _ts()
