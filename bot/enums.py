"""The closed sets of values stored in the database, as `StrEnum`s (a member compares equal to its string).

Each set is also a CHECK constraint (migration 0015_enum_checks), so a typo can never be stored. The words
shown to people for these values live in content/messages.toml (`labels.<set>.<value>`, read through
`bot.texts.label`), never here. This module is light: no database or configuration imports.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    SECRETARY = "secretary"
    DEPUTY = "deputy"  # secretary powers
    COMMITTEE = "committee"  # all branches
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class MemberType(StrEnum):
    REGULAR = "regular"
    RETIRED = "retired"
    MOBILE = "mobile"
    PROBATIONARY = "probationary"
    FRAIL = "frail"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"  # a timed message past its expiry: never sent late
    SKIPPED = "skipped"  # held (免打扰): not sent, the reason recorded
    FOLDED = "folded"  # a notice beyond the daily budget, folded into the digest


class ApprovalStatus(StrEnum):
    """A request from 待审: decided by 通过/驳回, or withdrawn (销假, forgotten member)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class TicketStatus(StrEnum):
    """问题与建议: open until 办结 (or 采纳 of a suggestion); a reopened ticket is open again."""

    OPEN = "open"
    CLOSED = "closed"


class ThemeDayStatus(StrEnum):
    """主题党日: `held` once theme_day_close recorded the attendance."""

    SCHEDULED = "scheduled"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    HELD = "held"


class PointsRule(StrEnum):
    """The built-in points rules (`[points.rules.<name>]`); a deployment may add its own names."""

    STUDY_CHECKIN = "study_checkin"
    STUDY_ANSWER = "study_answer"
    REFLECTION = "reflection"
    MAKEUP_CHECKIN = "makeup_checkin"
    THEME_DAY_ATTEND = "theme_day_attend"
    THEME_DAY_LATE = "theme_day_late"
    THEME_DAY_ABSENT = "theme_day_absent"
    COMMITMENT_FULFILLED = "commitment_fulfilled"
    PROBLEM_REPORTED = "problem_reported"
    SUGGESTION_ADOPTED = "suggestion_adopted"
    MANUAL = "manual"


# Which table column each set constrains (migration 0015_enum_checks and tests/test_enums.py read this).
CHECKED_COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("member", "member_type"): MemberType,
    ("delivery", "status"): DeliveryStatus,
    ("approval", "status"): ApprovalStatus,
    ("ticket", "status"): TicketStatus,
    ("theme_day", "status"): ThemeDayStatus,
}


def check_sql(column: str, values: type[StrEnum]) -> str:
    """The CHECK condition `column IN ('a', 'b', ...)` for an enum (the models' CheckConstraint)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
