"""Inbound callbacks and the outbound queue (messages and their deliveries)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.enums import DeliveryStatus, check_sql
from bot.models.base import _ts


class InboundMessage(SQLModel, table=True):
    """Every accepted callback, once: the unique dedup key makes a retry have its effect only once."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_message_status_lease", "status", "lease_until"),)
    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=255, unique=True)
    channel: str = Field(max_length=16)
    sender: str = Field(default="", max_length=255)  # encrypted under seal_key while processing, then wiped
    msg_type: str = Field(max_length=32)
    content: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="processing", max_length=16)  # processing / done / failed / pushed
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: dt.datetime | None = _ts(index=True)
    finished_at: dt.datetime | None = _ts()
    # While processing: the whole message (sender encrypted) so that it can be re-run, the lease (wall
    # clock seconds) of the process handling it and the attempt number that process holds.
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_until: float = 0.0
    attempts: int = 0


class OutboundMessage(SQLModel, table=True):
    """One message (content) sent to many recipients; each recipient has a Delivery row."""

    __tablename__ = "outbound_message"
    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=200, unique=True)  # idempotent enqueue
    channel: str = Field(max_length=16)  # wecom / wechat / robot / console
    kind: str = Field(max_length=32)  # text / markdown / template_card / textcard
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the kind's body
    urgent: bool = False  # delivery_class == "urgent" (kept for the console and old rows)
    reply: bool = False  # delivery_class == "reply"
    # reply / timed / notice / urgent, from `topic` (the kind of message) by bot.outbox.classes.TABLE
    delivery_class: str = Field(default="notice", max_length=16, sa_column_kwargs={"server_default": "notice"})
    topic: str | None = Field(default=None, max_length=48)
    # About an anonymous report: its times (and its deliveries' times) are kept to the day, and a delivery
    # to the sealed reporter holds the recipient encrypted until it is final, then nothing (see bot.outbox).
    sealed: bool = False
    expires_at: dt.datetime | None = _ts()
    created_at: dt.datetime | None = _ts()
    created_by: str | None = Field(default=None, max_length=64)
    batches: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # send batches numbered so far


class Delivery(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("message_id", "recipient", name="uq_delivery_message_recipient"),
        Index("ix_delivery_claim", "status", "not_before"),
        Index("ix_delivery_batch", "message_id", "batch"),
        CheckConstraint(check_sql("status", DeliveryStatus), name="ck_delivery_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: uq_delivery_message_recipient and ix_delivery_batch lead with message_id
    message_id: int = Field(foreign_key="outbound_message.id")
    recipient: str = Field(max_length=128, index=True)
    # queued / sending / sent / failed / expired; folded (over the daily budget: in a digest), skipped (免打扰)
    status: str = Field(default="queued", max_length=16)
    attempts: int = 0
    not_before: dt.datetime | None = _ts()  # business time: quiet hours and daily budget
    retry_at: float = 0.0  # wall seconds: backoff
    lease_until: float = 0.0  # wall seconds: a claimed row comes back when its worker died
    worker: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime | None = _ts()
    sent_at: dt.datetime | None = _ts()
    # The send call this row belongs to (template cards only), numbered 1, 2, ... per message when first
    # claimed and kept from then on: the card's task_id is `<task_id>-<batch>`, a resend reuses it.
    batch: int | None = None
    digest_id: int | None = None  # a folded row: the outbound_message id of the digest that listed it
