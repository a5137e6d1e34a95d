"""Wording of domain results: the one place a service's result becomes the Chinese reply (content/messages.toml).

Services return typed results (frozen dataclasses or rows) and never word them; the chat handlers, the admin
console and the 扫码签到 page word them here, so the same action reads the same everywhere. Refusals are not
worded here: they are `bot.refusal.Refusal` subclasses carrying their message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import clock, texts
from bot.services.study.push import title
from bot.services.theme_day.agenda import detail_lines
from bot.services.theme_day.core import when

if TYPE_CHECKING:
    from bot.models import Commitment, CommitmentVote, ThemeDay
    from bot.services.study.checkin import CheckInResult
    from bot.services.study.push import Today
    from bot.services.theme_day.fix import Correction
    from bot.services.theme_day.signin import SignIn, SigninCode, Turnout
    from bot.services.tickets.handling import Rating

# (补签到 / 准假, outcome) → message key; "after" is worded with the points given back (or without, if none)
_CORRECTION_KEYS = {
    ("signin", "already"): "theme_day.fix_signed_already", ("signin", "done"): "theme_day.fix_signed",
    ("signin", "after"): "theme_day.fix_signed_after_plain",
    ("excuse", "signed"): "theme_day.fix_excuse_signed", ("excuse", "already"): "theme_day.fix_excused_already",
    ("excuse", "done"): "theme_day.fix_excused", ("excuse", "after"): "theme_day.fix_excused_after_plain",
}


def signed_in(result: SignIn) -> str:
    """签到 (chat) and the 扫码签到 page."""
    if result.again:
        return texts.t("theme_day.signin_again", when=clock.local(result.signed_at).strftime("%H:%M"))
    key = "theme_day.signin_late" if result.late else "theme_day.signin_ok"
    return texts.t(key, number=result.event.number, topic=result.event.topic)


def signin_code(result: SigninCode) -> str:
    return texts.t("theme_day.code", number=result.event.number, code=result.code,
                   opens=result.opens.strftime("%m-%d %H:%M"), closes=result.closes.strftime("%m-%d %H:%M"))


def turnout(result: Turnout | None) -> str:
    """出勤: the counts, the agenda and guests, and up to 100 names of those missing."""
    if result is None:
        return texts.t("theme_day.attendance_none")
    event = result.event
    lines = [texts.t("theme_day.attendance", number=event.number, topic=event.topic,
                     when=when(event), present=len(result.present),
                     late=len(result.late), leave=len(result.leave), missing=len(result.missing),
                     total=result.total), *detail_lines(event)]
    if result.missing:
        names = "、".join(m.name for m in result.missing[:100]) + ("……" if len(result.missing) > 100 else "")
        lines.append(texts.t("theme_day.attendance_missing", names=names))
    return "\n".join(lines)


def correction(result: Correction) -> str:
    """补签到 / 准假 (chat and the console's 出勤 sheet)."""
    name, number = result.member.name, result.event.number
    if result.outcome == "after" and result.back:
        if result.action == "signin":
            return texts.t("theme_day.fix_signed_after", name=name, number=number, back=result.back)
        return texts.t("theme_day.fix_excused_after", name=name, number=number, back=result.back)
    return texts.t(_CORRECTION_KEYS[(result.action, result.outcome)], name=name, number=number)


def leave_cancelled(event: ThemeDay | None) -> str:
    """销假: `event` whose leave was withdrawn, None when there was none."""
    return texts.t("theme_day.unleave_none") if event is None else texts.t("theme_day.unleave_done",
                                                                           number=event.number)


def rating(result: Rating) -> str:
    """满意 / 不满意 on a ticket."""
    if result.outcome == "reopened":
        return texts.t("tickets.reopened", number=result.number, due=result.due.isoformat() if result.due else "-")
    if result.outcome == "satisfied":
        return texts.t("tickets.rated_satisfied", number=result.number)
    return texts.t("tickets.rated_final", number=result.number)


def checked_in(result: CheckInResult) -> str:
    """已学 (chat and the study card's button): the streak and month count, today's question if any."""
    if not result.created:
        return texts.t("study.already", streak=result.streak, month=result.month)
    key = "study.checked_in" if result.points else "study.checked_in_no_points"
    text = texts.t(key, streak=result.streak, month=result.month, points=result.points)
    if result.item is not None and result.item.question:
        text += "\n" + texts.t("study.question_hint", question=result.item.question)
    return text


def today(result: Today) -> str:
    """学习: today's title, summary, page and question; or why there is none."""
    item = result.item
    if item is None:
        nxt = result.next
        return texts.t("study.rest_day", next=f"{nxt.month}月{nxt.day}日") if nxt else texts.t("study.none_today")
    text = texts.t("study.today", series=item.series, title=title(item, result.review), summary=item.summary,
                   url=result.url)
    if item.question:
        text += "\n" + texts.t("study.today_question", question=item.question)
    return text


def folded(lines: list[str]) -> str:
    """通知: the folded notices in full (long lists are paged by the router)."""
    if not lines:
        return texts.t("outbox.listing_none")
    return "\n".join([texts.t("outbox.listing_header", count=len(lines)), *lines])


def vote(row: Commitment, cast: CommitmentVote) -> str:
    """满意 / 不满意 on a commitment."""
    choice = texts.t("commitments.yes" if cast.satisfied else "commitments.no")
    return texts.t("commitments.voted", number=row.number, choice=choice)
