"""[study], [calendar], [theme_day], [tickets] and [commitments]: the party-work features."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from bot.config.base import Bool, DateList, Int, Section, Str, StrList, member_types, one_of

NonNegative = Annotated[Int, Field(ge=0)]
Positive = Annotated[Int, Field(ge=1)]
MemberTypes = Annotated[StrList, AfterValidator(member_types)]


class StudyConfig(Section):
    makeup_days: NonNegative = 5  # 补签 reaches back this many workdays
    reflection_min: Positive = 10  # 心得 length limits (characters)
    reflection_max: Positive = 500
    answer_max: Positive = 100  # 答 length limit
    # member types the noon reminder skips (frail and retired members by default)
    remind_exclude: MemberTypes = ("frail", "retired")

    @model_validator(mode="after")
    def _range(self) -> StudyConfig:
        if self.reflection_max < self.reflection_min:
            raise ValueError(f"reflection_max: must be at least reflection_min ({self.reflection_min})")
        return self


class CalendarConfig(Section):
    workdays_only: Bool = True
    extra_holidays: DateList = ()
    extra_workdays: DateList = ()


class ThemeDayConfig(Section):
    rule: Annotated[Str, AfterValidator(lambda v: one_of(v, ("fixed", "free")))] = "fixed"
    day: Annotated[Int, Field(ge=1, le=28)] = 5
    limit_day: Annotated[Int, Field(ge=1, le=28)] = 15
    signin_opens_min: NonNegative = 30
    duration_hours: Positive = 4
    late_after_min: NonNegative = 10
    absent_consecutive: NonNegative = 3  # unexcused absences in a row within a year -> alert (0 = off)
    absent_cumulative: NonNegative = 6  # unexcused absences in a year -> alert (0 = off)
    late_max: NonNegative = 2  # late more than this many times in a year -> alert
    min_yearly: NonNegative = 0  # attendances a year; alert once out of reach (0 = off)


class TicketsConfig(Section):
    """问题与建议: deadlines in working days, counted from the day of the report (see bot/services/tickets/core.py)."""

    ungraded_days: Positive = 5  # before 定级
    urgent_days: Positive = 1  # 急难
    major_days: Positive = 3  # 重大
    ordinary_days: Positive = 5  # 一般
    emerging_days: Positive = 10  # 萌芽


class CommitmentsConfig(Section):
    """承诺践诺: limits per member and year, the satisfaction vote (see bot/services/commitments.py)."""

    yearly_limit: NonNegative = 4  # 承诺 per member per year (rejected ones do not count)
    instant_limit: NonNegative = 10  # 即时承诺 per member per year
    vote_days: Positive = 5  # working days the satisfaction vote stays open after 完成
    min_votes: Positive = 3  # fewer votes never escalate
    # percent: escalated when 满意 × 100 < threshold × votes
    satisfaction_threshold: Annotated[Int, Field(ge=1, le=100)] = 50
