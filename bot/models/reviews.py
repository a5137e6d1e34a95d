"""Review rounds (述评: 自评 → branch review → 7-day public notice → final)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.models.base import MemberCase, _ts, one_per


class Review(MemberCase, table=True):
    """A member's self-assessment (自评) for a half-year round (`period` "2026-H1" mid-year, "2026-H2" year-end),
    approved under its own `#N`, then publicly noticed for 7 days (异议 raises a dispute), then final."""

    __table_args__ = (Index("ix_review_member_period", "member_id", "period"),)
    period: str = Field(max_length=8)
    text: str = Field(max_length=1000)
    points: int | None = None  # the member's total when approved (shown in the notice)
    status: str = Field(default="submitted", max_length=16)  # submitted / rejected / notice / disputed / final
    notice_until: dt.date | None = None
    approved_at: dt.datetime | None = _ts()
    finalised_at: dt.datetime | None = _ts()
    created_at: dt.datetime | None = _ts()


class ReviewDispute(SQLModel, table=True):
    """异议: a branch member disputes a review during its public notice (one per member and review)."""

    __tablename__ = "review_dispute"
    __table_args__ = (one_per("review_dispute", "review_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(max_length=500)
    at: dt.datetime | None = _ts()
