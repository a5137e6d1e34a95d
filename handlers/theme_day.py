"""主题党日: 发布主题党日 / 推迟 / 取消 / 签到码 / 出勤 / 补签到 / 准假 for secretaries; 参加 / 请假 / 签到 / 销假
for members."""

from typing import Any

from bot import texts, wording
from bot.models import Branch, Member, ThemeDay
from bot.router import SECRETARY_ROLES, Code, Context, Number, Router, Text, Token, When, Who
from bot.services.theme_day import agenda as theme_day_agenda
from bot.services.theme_day import core as theme_day
from bot.services.theme_day import fix as theme_day_fix
from bot.services.theme_day import signin as theme_day_signin

AREA = "主题党日"


def publish(ctx: Context, starts: Any, place: str, topic: str) -> str:
    """发布主题党日 日期 时间 地点 主题 — 发布并通知全支部党员（如 12月5日 下午2点半；线上会议：地点写「线上 链接」）"""
    event, count = theme_day.publish(ctx.session, ctx.config, ctx.member, ctx.branch_id, starts, place, topic)
    note = theme_day_agenda.off_rule_note(ctx.config, ctx.session.get(Branch, event.branch_id), event.starts_at)
    return texts.t("theme_day.published", number=event.number, when=theme_day.when(event), place=event.place,
                   online=theme_day_agenda.online_text(event), topic=event.topic, count=count) + (
        f"\n{note}" if note else "")


def postpone(ctx: Context, event: ThemeDay, starts: Any) -> str:
    """推迟 编号 日期 时间 — 推迟主题党日并通知党员（如 12-06 15:00）"""
    event, count = theme_day.reschedule(ctx.session, ctx.config, ctx.member.userid, event, starts)
    return texts.t("theme_day.postponed", number=event.number, when=theme_day.when(event), count=count)


def cancel(ctx: Context, event: ThemeDay) -> str:
    """取消 编号 — 取消主题党日并通知党员"""
    event, count = theme_day.drop(ctx.session, ctx.config, ctx.member.userid, event)
    return texts.t("theme_day.cancelled", number=event.number, count=count)


def code(ctx: Context) -> str:
    """签到码 — 获取本次主题党日的签到码"""
    return wording.signin_code(theme_day_signin.signin_code(ctx.session, ctx.config, ctx.branch_id))


def attendance(ctx: Context) -> str:
    """出勤 — 查看最近一次主题党日的出勤情况"""
    return wording.turnout(theme_day_signin.turnout(ctx.session, ctx.branch_id))


def attend(ctx: Context) -> str:
    """参加 — 确认参加本支部下一次主题党日"""
    event, already = theme_day.attend(ctx.session, ctx.config, ctx.member)
    if already:
        return texts.t("theme_day.already_going", number=event.number)
    return texts.t("theme_day.going", number=event.number, when=theme_day.when(event), place=event.place,
                   online=theme_day_agenda.online_text(event))


def leave(ctx: Context, reason: str) -> str:
    """请假 原因 — 不能参加主题党日时请假（书记审批）"""
    result = theme_day.request_leave(ctx.session, ctx.config, ctx.member, reason)
    if result.state == "approved":
        return texts.t("theme_day.leave_approved_already", event=result.event.number)
    if result.state == "pending":
        return texts.t("theme_day.leave_pending", event=result.event.number, number=result.number)
    return texts.t("theme_day.leave_sent", number=result.number)


def sign_in(ctx: Context, code: str) -> str:
    """签到 码 — 主题党日现场签到"""
    return wording.signed_in(theme_day_signin.sign_in(ctx.session, ctx.config, ctx.member, code))


def manual_sign_in(ctx: Context, event: ThemeDay, member: Member) -> str:
    """补签到 编号 成员 — 为没能签上到的党员手工签到（如 补签到 #12 张三）"""
    return wording.correction(theme_day_fix.manual_sign_in(ctx.session, ctx.config, ctx.member, event, member))


def excuse(ctx: Context, event: ThemeDay, member: Member, reason: str) -> str:
    """准假 编号 成员 原因 — 事后准许党员缺席主题党日（记为请假）"""
    return wording.correction(theme_day_fix.excuse(ctx.session, ctx.config, ctx.member, event, member, reason))


def cancel_leave(ctx: Context) -> str:
    """销假 — 撤回自己对下一次主题党日的请假（恢复应到）"""
    return wording.leave_cancelled(theme_day_fix.cancel_leave(ctx.session, ctx.config, ctx.member))


def _open_event(ctx: Context, number: int) -> ThemeDay:
    return theme_day.find(ctx.session, ctx.member, ctx.branch_id, number)


def _event_to_fix(ctx: Context, number: int) -> ThemeDay:
    return theme_day_fix.event_for(ctx.session, ctx.member, ctx.branch_id, number)


def _member_of_event(ctx: Context, token: str, values: dict[str, Any]) -> Member:
    return theme_day_fix.member_for(ctx.session, ctx.member, values["event"], token, ctx.chosen)


OPEN_EVENT = Number(name="event", load=_open_event)
FIX_EVENT = Number(name="event", load=_event_to_fix)
OF_EVENT = Who(lookup=_member_of_event)


def register(router: Router) -> None:
    router.command("参加", attend, bare=True, area=AREA, basic=True)
    router.command("请假", leave, area=AREA, basic=True, example="出差在外", note="说明原因，书记审批后生效",
                   args=(Text("原因", "reason"),))
    router.command("签到", sign_in, area=AREA, example="1296", note="4 位数字，由支部书记在现场或线上会议中公布",
                   args=(Code("签到码", lead="码"),))  # 「签到码1296」 is 签到 1296
    router.command("销假", cancel_leave, bare=True, area=AREA)
    router.command("发布主题党日", publish, roles=SECRETARY_ROLES, area=AREA,
                   example="12月5日 下午2点半 三楼会议室 学习党章",
                   note="日期也可写 2026-12-05、12-05，时间也可写 14:30、2点；线上开会：地点写「线上」，"
                        "后面跟会议链接，如 线上 https://meeting.tencent.com/dm/xxxx 学习党章",
                   args=(When(), Token("地点", "place", as_sent=True), Text("主题", "topic")))
    router.command("推迟", postpone, roles=SECRETARY_ROLES, area=AREA, example="#12 12月8日 下午2点半",
                   args=(OPEN_EVENT, When()))
    router.command("取消", cancel, roles=SECRETARY_ROLES, area=AREA, example="#12", args=(OPEN_EVENT,))
    router.command("签到码", code, roles=SECRETARY_ROLES, bare=True, area=AREA)
    router.command("出勤", attendance, roles=SECRETARY_ROLES, bare=True, area=AREA)
    router.command("补签到", manual_sign_in, roles=SECRETARY_ROLES, area=AREA, example="#12 张三",
                   args=(FIX_EVENT, OF_EVENT))
    router.command("准假", excuse, roles=SECRETARY_ROLES, area=AREA, example="#12 张三 临时出差",
                   args=(FIX_EVENT, OF_EVENT, Text("原因", "reason")))
