"""SQLModel tables: one small class per noun. Facts are rows with who/when/why; totals are queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text, UniqueConstraint, text, true
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel

ROLES = ("member", "secretary", "deputy", "committee", "editor", "reviewer", "admin")
MEMBER_TYPES = ("regular", "retired", "mobile", "probationary", "frail")
BRANCH_LEVELS = ("branch", "general_branch", "committee")


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
    urgent: bool = False
    reply: bool = False  # a late answer to a member's own message: outside the daily budget
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
    )
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbound_message.id", index=True)
    recipient: str = Field(max_length=128, index=True)
    status: str = Field(default="queued", max_length=16)  # queued / sending / sent / failed / expired
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


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "run_date", name="uq_job_run"),)
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


class Approval(SQLModel, table=True):
    """A request a secretary decides with 通过/驳回: its kind's module knows what approval does."""

    __table_args__ = (Index("ix_approval_pending", "branch_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
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


# -- Morning study (晨学三分钟) -----------------------------------------------------------------------

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


class StudyReceipt(SQLModel, table=True):
    """The day's item reached this member (morning push or 学习): check-in is allowed from then on."""

    __tablename__ = "study_receipt"
    __table_args__ = (UniqueConstraint("member_id", "date", name="uq_study_receipt"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    date: dt.date = Field(index=True)
    via: str = Field(default="push", max_length=16)  # push / chat
    at: dt.datetime | None = _ts()


class CheckIn(SQLModel, table=True):
    """One check-in per member and study day; an approved 补签 is a check-in with `makeup`."""

    __tablename__ = "study_checkin"
    __table_args__ = (UniqueConstraint("member_id", "date", name="uq_study_checkin"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    date: dt.date = Field(index=True)
    at: dt.datetime | None = _ts()
    via: str = Field(default="chat", max_length=16)  # chat / button / menu / intent / makeup
    makeup: bool = False
    approval_id: int | None = Field(default=None, foreign_key="approval.id")


class StudyAnswer(SQLModel, table=True):
    """Every 答 a member sends; `correct` answers earn the bonus once a day."""

    __tablename__ = "study_answer"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    date: dt.date = Field(index=True)
    item_id: int = Field(foreign_key="study_item.id")
    text: str = Field(max_length=500)
    correct: bool = False
    at: dt.datetime | None = _ts()


class Reflection(SQLModel, table=True):
    """学习心得: a member's short reflection on the day's item."""

    __tablename__ = "study_reflection"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    date: dt.date = Field(index=True)
    item_id: int | None = Field(default=None, foreign_key="study_item.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime | None = _ts()


# -- Problems and suggestions (问题与建议) and commitments (承诺践诺) --------------------------------------

TICKET_GRADES = ("急难", "重大", "一般", "萌芽")


class Ticket(SQLModel, table=True):
    """A problem (反映 / 匿名反映) or suggestion (建议) under its own `#N`. An anonymous ticket keeps no member
    id: only `reporter_ref`, the per-report seal of bot.seal.report_seal (see bot/services/tickets.py)."""

    __table_args__ = (Index("ix_ticket_open", "status", "due_on"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
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
    __table_args__ = (UniqueConstraint("ticket_id", "branch_id", name="uq_ticket_escalation"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    branch_id: int = Field(foreign_key="branch.id")
    at: dt.datetime | None = _ts()


class Commitment(SQLModel, table=True):
    """承诺 (yearly) or 即时承诺 (instant) under its own `#N`, approved through a "commitment" request of the
    same number."""

    __table_args__ = (Index("ix_commitment_member_year", "member_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    member_id: int = Field(foreign_key="member.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
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
    __table_args__ = (UniqueConstraint("commitment_id", "member_id", name="uq_commitment_vote"),)
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    satisfied: bool
    at: dt.datetime | None = _ts()


# -- Political birthdays, theme party days, attendance, duty roster (issue 5) ----------------------------

THEME_DAY_STATUSES = ("scheduled", "postponed", "cancelled", "held")


class Task(SQLModel, table=True):
    """A task for a secretary (谈心谈话 on a political birthday, follow-up after absences), done by `完成 N`.
    `key` makes creating the same task twice a no-op."""

    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32)  # talk / followup
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)  # whom it is about
    summary: str = Field(max_length=200)
    status: str = Field(default="open", max_length=16)  # open / done
    created_at: dt.datetime | None = _ts()
    done_at: dt.datetime | None = _ts()
    done_by: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)


class ThemeDay(SQLModel, table=True):
    """主题党日: one event of a branch, numbered from the shared `#N` sequence."""

    __tablename__ = "theme_day"
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    starts_at: dt.datetime = _ts(nullable=False, index=True)
    place: str = Field(max_length=64)
    topic: str = Field(max_length=200)
    status: str = Field(default="scheduled", max_length=16)  # scheduled / postponed / cancelled / held
    online: bool = False
    signin_code: str | None = Field(default=None, max_length=8)
    agenda: str | None = Field(default=None, max_length=500)  # ';'-joined 学/会/做/工/课, each "项" or "项:备注"
    guests: str | None = Field(default=None, max_length=200)
    created_by: str = Field(default="", max_length=64)
    created_at: dt.datetime | None = _ts()
    closed_at: dt.datetime | None = _ts()  # theme_day_close recorded the attendance


class Attendance(SQLModel, table=True):
    """One member at one theme day: RSVP (参加/请假), sign-in, and the result written when it closes."""

    __tablename__ = "theme_day_attendance"
    __table_args__ = (UniqueConstraint("event_id", "member_id", name="uq_attendance_event_member"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="theme_day.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    rsvp: str | None = Field(default=None, max_length=16)  # going / leave_pending / leave / leave_rejected
    leave_number: int | None = None
    signed_at: dt.datetime | None = _ts()
    late: bool = False
    result: str | None = Field(default=None, max_length=16)  # present / late / excused / absent


class AttendanceAlert(SQLModel, table=True):
    """An attendance rule a member tripped in a year (each alert once)."""

    __tablename__ = "attendance_alert"
    __table_args__ = (UniqueConstraint("member_id", "year", "rule", name="uq_attendance_alert"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    year: int
    rule: str = Field(max_length=32)  # consecutive / cumulative / late
    count: int = 0
    task_number: int | None = None
    at: dt.datetime | None = _ts()


class DutyShift(SQLModel, table=True):
    """值班: a member on duty on a date (imported with `dangjian import-duty`)."""

    __tablename__ = "duty_shift"
    __table_args__ = (UniqueConstraint("date", "member_id", name="uq_duty_shift"),)
    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(index=True)
    member_id: int = Field(foreign_key="member.id", index=True)


# -- Review rounds (述评: 自评 → branch review → 7-day public notice → final) -------------------------------


class Review(SQLModel, table=True):
    """A member's self-assessment (自评) for a half-year round (`period` "2026-H1" mid-year, "2026-H2" year-end),
    approved under its own `#N`, then publicly noticed for 7 days (异议 raises a dispute), then final."""

    __table_args__ = (Index("ix_review_member_period", "member_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(foreign_key="case_number.id", unique=True)
    member_id: int = Field(foreign_key="member.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
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
    __table_args__ = (UniqueConstraint("review_id", "member_id", name="uq_review_dispute"),)
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(max_length=500)
    at: dt.datetime | None = _ts()
