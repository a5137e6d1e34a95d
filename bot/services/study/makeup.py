"""补签 日期 原因: a member asks to check in for a missed workday within `[study] makeup_days` working days;
the request (approval kind "makeup") is approved by a secretary, which writes the make-up check-in and its
`makeup_checkin` points. Refusals are `StudyError`s with the Chinese reply.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlmodel import Session, select

from bot import clock, parse, texts
from bot.db import table_of
from bot.enums import PointsRule
from bot.models import Approval, CheckIn, Member
from bot.services import approvals
from bot.services.study import core as study
from bot.services.study.checkin import StudyError, award, checked_in, insert_for

_MAKEUP = re.compile(r"^(\S+?)[\s,、:]+(.+)$")  # 日期 原因: the date as bot.parse reads it


_RAW_SEP = re.compile(r"[\s,，、:：]+")


def earliest_makeup(config: Any, today: dt.date) -> dt.date:
    day = today
    for _ in range(max(config.study.makeup_days, 0)):
        day = clock.previous_workday(day)
    return day


def request_makeup(session: Session, config: Any, member: Member, args: str, raw: str | None = None) -> Approval:
    """`args`: `日期 原因`, normalised (for parsing); the reason is stored from `raw` (as sent) when given."""
    m = _MAKEUP.match(args.strip())
    if not m:
        raise StudyError(texts.t("study.makeup_usage"))
    today = clock.today()
    try:
        day = parse.parse_date(m.group(1), today, past=True)  # 「11月23日」: the latest such day before today
    except parse.ParseError as exc:
        raise StudyError(f"{exc}\n{texts.t('study.makeup_usage')}") from None
    reason = m.group(2).strip()
    pieces = _RAW_SEP.split((raw or "").strip(), maxsplit=1)
    if raw is not None and len(pieces) == 2 and pieces[1].strip():
        reason = pieces[1].strip()
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
    result = session.exec(insert_for(session)(table).values(
        member_id=member.id, date=day, at=clock.now(), via="makeup", makeup=True, approval_id=request.id)
        .on_conflict_do_nothing(index_elements=["member_id", "date"]).returning(table.c.id))
    if result.first() is not None:
        award(session, config, member, PointsRule.MAKEUP_CHECKIN, on=day, source=f"approval:{request.number}",
              actor=decider.userid, reason=texts.t("study.reason_makeup", date=day.isoformat(),
                                                   number=request.number))


APPROVAL_KIND = approvals.Kind("makeup", "study.makeup_label", _approve_makeup)
