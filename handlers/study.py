"""晨学三分钟: 学习, 打卡 (word, menu, card button, free text), 答, 心得, 补签, and the secretary's 统计 / 未学."""

import datetime as dt

from sqlmodel import select

from bot import clock, texts, wording
from bot.message import Reply
from bot.models import Branch
from bot.router import SECRETARY_ROLES, Context, Date, Event, MenuKey, Router, Test, Text
from bot.services.study import checkin as study_checkin
from bot.services.study import makeup as study_makeup
from bot.services.study import push as study_push
from handlers.approvals import AREA as MANAGE

AREA = "学习"


def today(ctx: Context) -> str:
    """学习 — 查看今天的晨学内容"""
    return wording.today(study_push.show_today(ctx.session, ctx.config, ctx.member))


def checkin(ctx: Context) -> str:
    """已学 / 打卡 / 1 — 学完今天的内容后打卡"""
    via = "menu" if ctx.message.is_event else ("chat" if ctx.text in ("已学", "打卡", "1") else "intent")
    return wording.checked_in(study_checkin.check_in(ctx.session, ctx.config, ctx.member, via))


def card_button(ctx: Context) -> Reply:
    """The 已学 button of the morning card (key checkin:YYYY-MM-DD)."""
    try:
        day = dt.date.fromisoformat(ctx.message.event_key.split(":", 1)[1])
    except ValueError:
        return Reply(texts.t("study.card_bad"))
    if day < clock.today():
        return Reply(texts.t("study.card_past", date=day.isoformat()))
    if day > clock.today():
        return Reply(texts.t("study.card_future"))
    result = study_checkin.check_in(ctx.session, ctx.config, ctx.member, "button")
    return Reply(wording.checked_in(result), button=texts.t("study.card_done"))


def answer(ctx: Context, text: str) -> str:
    """答 答案 — 回答今天的思考题（答对加分）"""
    result = study_checkin.answer(ctx.session, ctx.config, ctx.member, text)
    if result.before:
        return texts.t("study.answered_before")
    if not result.correct:
        return texts.t("study.answer_wrong")
    return texts.t("study.answer_right", points=result.points, answer=result.answer)


def reflection(ctx: Context, text: str) -> str:
    """心得 文字 — 提交学习心得"""
    result = study_checkin.reflect(ctx.session, ctx.config, ctx.member, text)
    if result.again:
        return texts.t("study.reflection_again")
    return texts.t("study.reflection_saved", points=result.points)


def makeup(ctx: Context, day: dt.date, reason: str) -> str:
    """补签 YYYY-MM-DD 原因 — 申请补记漏学的一天（书记审批）"""
    request = study_makeup.request_makeup(ctx.session, ctx.config, ctx.member, day, reason)
    return texts.t("study.makeup_sent", number=request.number)


def _branch(ctx: Context) -> Branch | None:
    return ctx.session.get(Branch, ctx.branch_id) if ctx.branch_id is not None else None


def _rate(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


def stats(ctx: Context) -> str:
    """统计 — 本支部今天的晨学打卡完成情况"""
    day = clock.today()
    if not clock.is_workday(day):  # no study day: say so rather than 0%
        return texts.t("study.stats_no_study_day", date=day.isoformat())
    if ctx.member.has_role("committee") and "branch_id" not in ctx.state:
        lines = [texts.t("study.stats_header", date=day.isoformat())]
        for each in ctx.session.exec(select(Branch).order_by(Branch.code)):
            done, missing = study_checkin.completion(ctx.session, each.id, day)
            total = len(done) + len(missing)
            if total:
                lines.append(texts.t("study.stats_line", branch=each.name, done=len(done), total=total,
                                     rate=_rate(len(done), total)))
        return "\n".join([*lines[:31], texts.t("study.stats_footer")])
    branch = _branch(ctx)
    if branch is None:
        return texts.t("study.no_branch")
    done, missing = study_checkin.completion(ctx.session, branch.id, day)
    total = len(done) + len(missing)
    return texts.t("study.stats", branch=branch.name, date=day.isoformat(), done=len(done), total=total,
                   rate=_rate(len(done), total))


def missing(ctx: Context) -> str:
    """未学 — 本支部今天还没打卡的党员名单"""
    branch, day = _branch(ctx), clock.today()
    if branch is None:
        return texts.t("study.no_branch")
    if not clock.is_workday(day):  # nobody missed a day without study
        return texts.t("study.missing_no_study_day", date=day.isoformat())
    _, people = study_checkin.completion(ctx.session, branch.id, day)
    if not people:
        return texts.t("study.missing_none", branch=branch.name, date=day.isoformat())
    names = "、".join(p.name for p in people[:200]) + ("……" if len(people) > 200 else "")
    return texts.t("study.missing", branch=branch.name, date=day.isoformat(), count=len(people), names=names)


def register(router: Router) -> None:
    router.command("学习", today, bare=True, area=AREA, basic=True)
    router.command(("已学", "打卡", "1"), checkin, bare=True, area=AREA, basic=True)  # free text: handlers/chat.py
    router.command("答", answer, area=AREA, example="汉书", args=(Text("答案"),))
    router.command("心得", reflection, area=AREA, example="今天学习了理论摘编，要把学到的落实到岗位工作中",
                   args=(Text("文字"),))
    router.command("补签", makeup, area=AREA, example="11月23日 出差在外未能学习",
                   note="日期可写 11月23日、2026-11-23、昨天",
                   args=(Date(past=True), Text("原因", "reason")))
    router.command("统计", stats, roles=SECRETARY_ROLES, bare=True, area=MANAGE)
    router.command("未学", missing, roles=SECRETARY_ROLES, bare=True, area=MANAGE)
    router.add(MenuKey("study_today"), today)
    router.add(MenuKey("checkin"), checkin)
    router.add(Event("template_card_event") & Test(lambda ctx: ctx.message.event_key.startswith("checkin:")),
               card_button)
