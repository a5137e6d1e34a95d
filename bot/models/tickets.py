"""Problems and suggestions (问题与建议)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.enums import TicketStatus, check_sql
from bot.models.base import NumberedCase, _ts, one_per

TICKET_GRADES = ("急难", "重大", "一般", "萌芽")


class Ticket(NumberedCase, table=True):
    """A problem (反映 / 匿名反映) or suggestion (建议) under its own `#N`. An anonymous ticket keeps no member
    id: only `reporter_ref`, the per-report seal of bot.seal.report_seal (see bot/services/tickets/core.py)."""

    __table_args__ = (Index("ix_ticket_open", "status", "due_on"),
                      CheckConstraint(check_sql("status", TicketStatus), name="ck_ticket_status"))
    kind: str = Field(max_length=16)  # problem / suggestion
    anonymous: bool = False
    reporter_id: int | None = Field(default=None, foreign_key="member.id", index=True)  # None when anonymous
    reporter_ref: str | None = Field(default=None, max_length=64, index=True)  # sealed, anonymous only
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    category: str = Field(default="其他", max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    grade: str | None = Field(default=None, max_length=8)  # 急难 / 重大 / 一般 / 萌芽
    due_on: dt.date | None = None
    assignee_id: int | None = Field(default=None, foreign_key="member.id")
    status: str = Field(default="open", max_length=16)  # open / closed
    resolution: str | None = Field(default=None, max_length=500)
    rating: str | None = Field(default=None, max_length=16)  # satisfied / unsatisfied
    reopened: int = 0
    adopted: bool = False
    level: int = 0  # how many levels up the branch parent chain it has been escalated
    created_at: dt.datetime | None = _ts(index=True)
    closed_at: dt.datetime | None = _ts()


class TicketEvent(SQLModel, table=True):
    """What happened to a ticket: graded, assigned, replied, closed, rated, reopened, escalated."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    action: str = Field(max_length=16)
    actor: str = Field(max_length=64)  # a userid, "reporter" for the anonymous reporter, or "system"
    text: str = Field(default="", max_length=500)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")  # the level an escalation reached
    at: dt.datetime | None = _ts()


class TicketEscalation(SQLModel, table=True):
    """One supervision notice (督办通知) per ticket and level of the branch parent chain."""

    __tablename__ = "ticket_escalation"
    __table_args__ = (one_per("ticket_escalation", "ticket_id", "branch_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    branch_id: int = Field(foreign_key="branch.id")
    at: dt.datetime | None = _ts()
