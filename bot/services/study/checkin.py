"""Check-in, streaks, month counts, 答 (question bonus), 心得 (reflections) and who checked in (补签, make-up
requests, are in `study.makeup`).

Every bonus is a ledger entry through `bot.services.points.core.award` (caps from `[points.rules.*]`); the
service raises `StudyError` with the Chinese reply for anything a member can fix.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, text, true
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.db import dialect_insert, table_of
from bot.enums import PointsRule
from bot.models import CheckIn, Member, Reflection, StudyAnswer, StudyDay, StudyItem, StudyReceipt
from bot.refusal import Refusal
from bot.services.study import core as study

log = logging.getLogger(__name__)

STREAK_LOOKBACK = 400
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


class StudyError(Refusal):
    """Something the member can fix; the message is the Chinese reply."""


@dataclass(frozen=True)
class CheckInResult:
    created: bool
    streak: int
    month: int
    points: int
    item: StudyItem | None


@dataclass(frozen=True)
class Answered:  # 答: right or wrong, the points and the expected answer; `before`: one today already earned them
    correct: bool
    points: int = 0
    answer: str = ""
    before: bool = False


@dataclass(frozen=True)
class Reflected:  # 心得, stored: the points; `again`: one today already earned them
    points: int
    again: bool


def award(session: Session, config: Any, member: Member, rule: str, *, on: dt.date, reason: str, source: str,
          actor: str = "system") -> int:
    from bot.services.points import core as points

    return int(points.award(session, config, member, rule, on=on, reason=reason, source=source,
                            actor=actor).points)


def record_receipts(session: Session, member_ids: list[int], day: dt.date, via: str) -> None:
    """The day's item reached these members (idempotent)."""
    now = clock.now()
    if session.get_bind().dialect.name == "postgresql":
        # One statement per 50,000 members (an array parameter) instead of a row each: the morning push to
        # 300,000 members spent seconds here.
        for start in range(0, len(member_ids), 50_000):
            session.execute(text("INSERT INTO study_receipt (member_id, date, via, at) "
                                 "SELECT unnest(CAST(:ids AS integer[])), :day, :via, :at "
                                 "ON CONFLICT (member_id, date) DO NOTHING"),
                            {"ids": member_ids[start:start + 50_000], "day": day, "via": via, "at": now})
        return
    rows = [{"member_id": m, "date": day, "via": via, "at": now} for m in member_ids]
    for start in range(0, len(rows), 1000):
        session.exec(dialect_insert(session, table_of(StudyReceipt))
                     .on_conflict_do_nothing(index_elements=["member_id", "date"]), params=rows[start:start + 1000])


def record_receipts_query(session: Session, member_ids: Any, day: dt.date, via: str) -> None:
    """`record_receipts` for the members whose ids a query selects: one INSERT ... SELECT."""
    # SQLite needs a WHERE in the SELECT to tell its ON CONFLICT from a join's ON
    rows = select(member_ids.subquery().c[0], literal(day), literal(via),
                  literal(clock.now(), table_of(StudyReceipt).c.at.type)).where(true())
    stmt = dialect_insert(session, table_of(StudyReceipt)).from_select(["member_id", "date", "via", "at"], rows)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["member_id", "date"]))


def received(session: Session, member: Member, day: dt.date) -> bool:
    stmt = select(StudyReceipt.id).where(StudyReceipt.member_id == member.id, StudyReceipt.date == day)
    return session.exec(stmt).first() is not None


def checked_in(session: Session, member_id: int, day: dt.date) -> bool:
    stmt = select(CheckIn.id).where(CheckIn.member_id == member_id, CheckIn.date == day)
    return session.exec(stmt).first() is not None


def streak(session: Session, member_id: int, day: dt.date) -> int:
    """Study days in a row checked in up to `day` (days without a published item neither count nor break;
    `day` itself not yet checked in does not break it either)."""
    dates = list(session.exec(select(col(StudyDay.date)).where(col(StudyDay.date) <= day)
                              .order_by(col(StudyDay.date).desc()).limit(STREAK_LOOKBACK)))
    if not dates:
        return 0
    done = set(session.exec(select(col(CheckIn.date)).where(CheckIn.member_id == member_id, col(CheckIn.date) <= day,
                                                            col(CheckIn.date) >= dates[-1])))
    count = 0
    for index, date in enumerate(dates):
        if date in done:
            count += 1
        elif index == 0 and date == day:
            continue
        else:
            break
    return count


def month_count(session: Session, member_id: int, day: dt.date) -> int:
    first = day.replace(day=1)
    stmt = select(func.count()).select_from(CheckIn).where(CheckIn.member_id == member_id,
                                                          col(CheckIn.date) >= first, col(CheckIn.date) <= day)
    return int(session.exec(stmt).one())


def check_in(session: Session, config: Any, member: Member, via: str = "chat",
             day: dt.date | None = None) -> CheckInResult:
    """Check in for `day` (today): allowed once the day's item reached the member."""
    day = day or clock.today()
    if not clock.is_workday(day):
        raise StudyError(texts.t("study.rest_day", next=_md(clock.next_workday(day))))
    chosen = study.get_day(session, day)
    if chosen is None and study.pick(session, day) is None and study.review_pick(session, day) is None:
        raise StudyError(texts.t("study.checkin_no_item"))  # 「学习」 would say the same: no loop between them
    if chosen is None or not received(session, member, day):
        raise StudyError(texts.t("study.not_sent"))
    item = session.get(StudyItem, chosen.item_id)
    assert member.id is not None  # a member row from the session
    table = table_of(CheckIn)
    result = session.exec(dialect_insert(session, table).values(
        member_id=member.id, date=day, at=clock.now(), via=via[:16], makeup=False)
        .on_conflict_do_nothing(index_elements=["member_id", "date"]).returning(table.c.id))
    created = result.first() is not None
    points = 0
    if created:
        points = award(session, config, member, PointsRule.STUDY_CHECKIN, on=day, source=f"study:{day}",
                       reason=texts.t("study.reason_checkin", title=item.title if item else ""))
    return CheckInResult(created, streak(session, member.id, day), month_count(session, member.id, day), points,
                         item)


def _clean(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


def is_correct(answer: str, expected: str | None) -> bool:
    """Any `|`-separated alternative of the expected answer, punctuation and case aside, found in the text."""
    given = _clean(answer)
    if not given or not expected:
        return False
    alternatives = [_clean(a) for a in expected.split("|")]
    return any(alt and (alt in given or given == alt) for alt in alternatives)


def answer(session: Session, config: Any, member: Member, text: str) -> Answered:
    """答 文字: today's question; the first correct answer of the day earns `study_answer`."""
    day = clock.today()
    text = text.strip()
    if not text:
        raise StudyError(texts.t("study.answer_empty"))
    if len(text) > config.study.answer_max:
        raise StudyError(texts.t("study.answer_too_long", limit=config.study.answer_max))
    chosen = study.get_day(session, day)
    item = session.get(StudyItem, chosen.item_id) if chosen is not None else None
    if item is None or not received(session, member, day):
        raise StudyError(texts.t("study.not_sent"))
    if not item.question or not item.answer:
        raise StudyError(texts.t("study.no_question"))
    before = session.exec(select(StudyAnswer.id).where(StudyAnswer.member_id == member.id, StudyAnswer.date == day,
                                                      StudyAnswer.correct)).first()
    if before is not None:
        return Answered(True, before=True)
    correct = is_correct(text, item.answer)
    assert member.id is not None  # rows from the session
    assert item.id is not None
    session.add(StudyAnswer(member_id=member.id, date=day, item_id=item.id, text=text[:500], correct=correct,
                            at=clock.now()))
    session.flush()
    if not correct:
        return Answered(False)
    points = award(session, config, member, PointsRule.STUDY_ANSWER, on=day, source=f"study:{day}",
                   reason=texts.t("study.reason_answer", title=item.title))
    return Answered(True, points, item.answer.split("|")[0])


def reflect(session: Session, config: Any, member: Member, text: str) -> Reflected:
    """心得 文字: stored with the day's item; the first one a day earns `reflection`."""
    limits = config.study
    text = text.strip()
    if len(text) < limits.reflection_min:
        raise StudyError(texts.t("study.reflection_short", min=limits.reflection_min, length=len(text)))
    if len(text) > limits.reflection_max:
        raise StudyError(texts.t("study.reflection_long", max=limits.reflection_max, length=len(text)))
    day = clock.today()
    earlier = session.exec(select(func.count()).select_from(Reflection)
                           .where(Reflection.member_id == member.id, Reflection.date == day)).one()
    chosen = study.get_day(session, day)
    assert member.id is not None  # a member row from the session
    session.add(Reflection(member_id=member.id, date=day, item_id=chosen.item_id if chosen else None, text=text,
                           at=clock.now()))
    session.flush()
    if earlier:
        return Reflected(0, again=True)
    points = award(session, config, member, PointsRule.REFLECTION, on=day, source=f"study:{day}",
                   reason=texts.t("study.reason_reflection"))
    return Reflected(points, again=False)



def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


# -- 统计 / 未学 --------------------------------------------------------------------------------------------

def branch_members(session: Session, branch_id: int | None) -> list[Member]:
    stmt = select(Member).where(Member.active).order_by(Member.name, Member.userid)
    if branch_id is not None:
        stmt = stmt.where(Member.branch_id == branch_id)
    return list(session.exec(stmt))


def done_ids(session: Session, day: dt.date, member_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for start in range(0, len(member_ids), 5000):
        chunk = member_ids[start:start + 5000]
        out.update(session.exec(select(CheckIn.member_id).where(CheckIn.date == day,
                                                                col(CheckIn.member_id).in_(chunk))))
    return out


def completion(session: Session, branch_id: int | None, day: dt.date) -> tuple[list[Member], list[Member]]:
    """(checked in, not checked in) among the branch's active members."""
    people = branch_members(session, branch_id)
    done = done_ids(session, day, [p.id for p in people if p.id is not None])
    return [p for p in people if p.id in done], [p for p in people if p.id not in done]
