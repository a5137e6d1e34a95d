"""Commitments (承诺践诺)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.models.base import MemberCase, _ts, one_per


class Commitment(MemberCase, table=True):
    """承诺 (yearly) or 即时承诺 (instant) under its own `#N`, approved through a "commitment" request of the
    same number."""

    __table_args__ = (Index("ix_commitment_member_year", "member_id", "year"),)
    kind: str = Field(default="yearly", max_length=16)  # yearly / instant
    year: int
    text: str = Field(max_length=500)
    status: str = Field(default="pending", max_length=16)  # pending / approved / rejected / fulfilled
    approved_at: dt.datetime | None = _ts()
    fulfilled_at: dt.datetime | None = _ts()
    fulfilled_by: str | None = Field(default=None, max_length=64)
    vote_until: dt.date | None = None  # satisfaction voting closes after this day
    evaluated_at: dt.datetime | None = _ts()
    escalated_at: dt.datetime | None = _ts()
    created_at: dt.datetime | None = _ts()


class CommitmentProgress(SQLModel, table=True):
    """践诺: a progress report on an approved commitment by its owner."""

    __tablename__ = "commitment_progress"
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    text: str = Field(max_length=500)
    at: dt.datetime | None = _ts()


class CommitmentVote(SQLModel, table=True):
    """满意 / 不满意 on a commitment: one vote per branch member, never by the owner."""

    __tablename__ = "commitment_vote"
    __table_args__ = (one_per("commitment_vote", "commitment_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    satisfied: bool
    at: dt.datetime | None = _ts()
