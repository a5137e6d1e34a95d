"""Morning study (晨学三分钟): the library, the day's item, receipts, check-ins, answers, reflections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from bot.models.base import MemberDay, _ts, one_per

STUDY_SERIES = (
    "理论摘编", "伦理典故", "政策法规", "会议文件", "廉政建设", "道德讲堂", "读书集萃", "党课团课", "健康知识",
)
STUDY_STATUSES = ("draft", "reviewed", "scheduled", "published")


class StudyItem(SQLModel, table=True):
    """One ~3-minute item of the study library; only `reviewed` (or later) items are ever pushed."""

    __tablename__ = "study_item"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    series: str = Field(max_length=20, index=True)
    title: str = Field(max_length=128)
    summary: str = Field(max_length=200)  # ≤120 characters, checked on import
    body: str = Field(sa_column=Column(Text, nullable=False))
    question: str | None = Field(default=None, max_length=500)
    answer: str | None = Field(default=None, max_length=200)
    publish_on: dt.date | None = Field(default=None, index=True)
    urgent: bool = False
    weekly_key: bool = False
    status: str = Field(default="draft", max_length=16)
    editor: str | None = Field(default=None, max_length=64)
    reviewer: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime | None = _ts()
    updated_at: dt.datetime | None = _ts()


class StudyDay(SQLModel, table=True):
    """The item published for a workday (chosen once, replaced only by an urgent item)."""

    __tablename__ = "study_day"
    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(unique=True, index=True)
    item_id: int = Field(foreign_key="study_item.id", index=True)
    chosen_at: dt.datetime | None = _ts()
    pushed_at: dt.datetime | None = _ts()


class StudyReceipt(MemberDay, table=True):
    """The day's item reached this member (morning push or 学习): check-in is allowed from then on."""

    __tablename__ = "study_receipt"
    __table_args__ = (one_per("study_receipt", "member_id", "date"),)
    via: str = Field(default="push", max_length=16)  # push / chat
    at: dt.datetime | None = _ts()


class CheckIn(MemberDay, table=True):
    """One check-in per member and study day; an approved 补签 is a check-in with `makeup`."""

    __tablename__ = "study_checkin"
    __table_args__ = (one_per("study_checkin", "member_id", "date"),)
    at: dt.datetime | None = _ts()
    via: str = Field(default="chat", max_length=16)  # chat / button / menu / intent / makeup
    makeup: bool = False
    approval_id: int | None = Field(default=None, foreign_key="approval.id")


class StudyAnswer(MemberDay, table=True):
    """Every 答 a member sends; `correct` answers earn the bonus once a day."""

    __tablename__ = "study_answer"
    item_id: int = Field(foreign_key="study_item.id")
    text: str = Field(max_length=500)
    correct: bool = False
    at: dt.datetime | None = _ts()


class Reflection(MemberDay, table=True):
    """学习心得: a member's short reflection on the day's item."""

    __tablename__ = "study_reflection"
    item_id: int | None = Field(default=None, foreign_key="study_item.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime | None = _ts()
