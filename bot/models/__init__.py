"""SQLModel tables: one small class per noun, one module per domain. Facts are rows with who/when/why;
totals are queries. Importing this package registers every table on `SQLModel.metadata` (Alembic and
`create_all` see them all); `from bot.models import X` works for every name below."""

from bot.models.approvals import Approval
from bot.models.base import UTCDateTime
from bot.models.commitments import Commitment, CommitmentProgress, CommitmentVote
from bot.models.members import BRANCH_LEVELS, MEMBER_TYPES, ROLES, Branch, Member
from bot.models.messages import Delivery, InboundMessage, OutboundMessage
from bot.models.points import LedgerEntry, Veto
from bot.models.reviews import Review, ReviewDispute
from bot.models.study import (
    STUDY_SERIES,
    STUDY_STATUSES,
    CheckIn,
    Reflection,
    StudyAnswer,
    StudyDay,
    StudyItem,
    StudyReceipt,
)
from bot.models.system import AdminUser, AuditLog, CaseNumber, JobRun, KeyValue, Lease, LoginThrottle, ReplyPages
from bot.models.theme_day import THEME_DAY_STATUSES, Attendance, AttendanceAlert, DutyShift, Task, ThemeDay
from bot.models.tickets import TICKET_GRADES, Ticket, TicketEscalation, TicketEvent

__all__ = [
    "BRANCH_LEVELS", "MEMBER_TYPES", "ROLES", "STUDY_SERIES", "STUDY_STATUSES", "THEME_DAY_STATUSES", "TICKET_GRADES",
    "AdminUser", "Approval", "Attendance", "AttendanceAlert", "AuditLog", "Branch", "CaseNumber", "CheckIn",
    "Commitment", "CommitmentProgress", "CommitmentVote", "Delivery", "DutyShift", "InboundMessage", "JobRun",
    "KeyValue", "Lease", "LedgerEntry", "LoginThrottle", "Member", "OutboundMessage", "Reflection", "ReplyPages",
    "Review", "ReviewDispute", "StudyAnswer", "StudyDay", "StudyItem", "StudyReceipt", "Task", "ThemeDay", "Ticket",
    "TicketEscalation", "TicketEvent", "UTCDateTime", "Veto",
]
