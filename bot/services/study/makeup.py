"""补签 日期 原因: a member asks to check in for a missed workday within `[study] makeup_days` working days;
the request (approval kind "makeup") is approved by a secretary, which writes the make-up check-in and its
`makeup_checkin` points. Refusals are `StudyError`s with the Chinese reply.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from bot import clock, texts
from bot.db import dialect_insert, table_of
from bot.enums import PointsRule
from bot.models import Approval, CheckIn, Member
from bot.services import approvals
from bot.services.study import core as study
from bot.services.study.checkin import StudyError, award, checked_in


def earliest_makeup(config: Any, today: dt.date) -> dt.date:
    day = today
    for _ in range(max(config.study.makeup_days, 0)):
        day = clock.previous_workday(day)
    return day


def request_makeup(session: Session, config: Any, member: Member, day: dt.date, reason: str) -> Approval:
    """补签: asks the secretary to count `day` (a past workday within `[study] makeup_days` that had an item)
    as studied; the request, announced to the deciders."""
    today = clock.today()
    reason = reason.strip()
    if not reason:
        raise StudyError(texts.t("study.makeup_reason"))
    if day >= today:
        raise StudyError(texts.t("study.makeup_not_past"))
    window = config.study.makeup_days
    if day < earliest_makeup(config, today):
        raise StudyError(texts.t("study.makeup_too_old", days=window))
    if not clock.is_workday(day):
        raise StudyError(texts.t("study.makeup_rest_day", date=day.isoformat()))
    if study.get_day(session, day) is None:
        raise StudyError(texts.t("study.makeup_no_item", date=day.isoformat()))
    assert member.id is not None  # a member row from the session
    if checked_in(session, member.id, day):
        raise StudyError(texts.t("study.makeup_done", date=day.isoformat()))
    for request in session.exec(select(Approval).where(Approval.kind == "makeup", Approval.member_id == member.id,
                                                       Approval.status == "pending")):
        if approvals.payload(request).get("date") == day.isoformat():
            raise StudyError(texts.t("study.makeup_pending", number=request.number))
    summary = texts.t("study.makeup_summary", name=member.name, date=day.isoformat(), reason=reason)
    request = approvals.create(session, "makeup", member, summary, {"date": day.isoformat(), "reason": reason[:200]})
    approvals.announce(session, config, request)
    return request


def _approve_makeup(session: Session, request: Approval, decider: Member, config: Any) -> None:
    member = session.get(Member, request.member_id)
    day = dt.date.fromisoformat(approvals.payload(request)["date"])
    if member is None:
        return
    table = table_of(CheckIn)
    result = session.exec(dialect_insert(session, table).values(
        member_id=member.id, date=day, at=clock.now(), via="makeup", makeup=True, approval_id=request.id)
        .on_conflict_do_nothing(index_elements=["member_id", "date"]).returning(table.c.id))
    if result.first() is not None:
        award(session, config, member, PointsRule.MAKEUP_CHECKIN, on=day, source=f"approval:{request.number}",
              actor=decider.userid, reason=texts.t("study.reason_makeup", date=day.isoformat(),
                                                   number=request.number))


APPROVAL_KIND = approvals.Kind("makeup", "study.makeup_label", _approve_makeup)
