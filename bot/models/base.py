"""Shared column types, the columns that kinds of table share (non-table SQLModel bases: each table gets its
own columns from them), and the constraint naming they share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, UniqueConstraint
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, stored as UTC on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _ts(nullable: bool = True, index: bool = False):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def one_per(table: str, *columns: str) -> UniqueConstraint:
    """At most one row of `table` per value of `columns`: the unique constraint `uq_<table>`."""
    return UniqueConstraint(*columns, name=f"uq_{table}")


class NumberedCase(SQLModel):
    """A case under its own `#N`: the number is a row of `case_number`, the one sequence every kind draws from
    (approvals, commitments, reviews, tickets), so `#N` names one case whatever its kind."""

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)


class MemberCase(NumberedCase):
    """A numbered case a member files about themselves (承诺, 自评), handled in their branch."""

    member_id: int = Field(foreign_key="member.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)


class MemberDay(SQLModel):
    """A member's row for a study day (receipt, check-in, answer, reflection): looked up by member and by day."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    date: dt.date = Field(index=True)
