"""主题党日: 发布主题党日 / 推迟 / 取消 / 签到码 / 出勤 for secretaries; 参加 / 请假 / 签到 for members."""

import re
from collections.abc import Callable

from bot import texts
from bot.models import Branch
from bot.router import SECRETARY_ROLES, Context, Prefix, Router, Word
from bot.services import theme_day, theme_day_agenda, theme_day_fix
from bot.services.theme_day import ThemeDayError


def _guarded(func: Callable[[], str]) -> str:
    try:
        return func()
    except ThemeDayError as exc:
        return str(exc)


def publish(ctx: Context) -> str:
    """发布主题党日 日期 时间 地点 主题 — 发布并通知全支部党员（如 12月5日 下午2点半；线上会议：地点写「线上 链接」）"""

    def run() -> str:
        event, count = theme_day.publish(ctx.session, ctx.config, ctx.member, ctx.branch_id, ctx.args,
                                         ctx.raw_args)
        note = theme_day_agenda.off_rule_note(ctx.config, ctx.session.get(Branch, event.branch_id), event.starts_at)
        return texts.t("theme_day.published", number=event.number, when=theme_day.when(event), place=event.place,
                       online=theme_day_agenda.online_text(event), topic=event.topic, count=count) + (
            f"\n{note}" if note else "")

    return _guarded(run)


def postpone(ctx: Context) -> str:
    """推迟 编号 日期 时间 — 推迟主题党日并通知党员（如 12-06 15:00）"""

    def run() -> str:
        event, count = theme_day.postpone(ctx.session, ctx.config, ctx.member, ctx.branch_id, ctx.args)
        return texts.t("theme_day.postponed", number=event.number, when=theme_day.when(event), count=count)

    return _guarded(run)


def cancel(ctx: Context) -> str:
    """取消 编号 — 取消主题党日并通知党员"""

    def run() -> str:
        event, count = theme_day.cancel(ctx.session, ctx.config, ctx.member, ctx.branch_id, ctx.args)
        return texts.t("theme_day.cancelled", number=event.number, count=count)

    return _guarded(run)


def code(ctx: Context) -> str:
    """签到码 — 获取本次主题党日的签到码"""
    return _guarded(lambda: theme_day.signin_code(ctx.session, ctx.config, ctx.branch_id))


def attendance(ctx: Context) -> str:
    """出勤 — 查看最近一次主题党日的出勤情况"""
    return theme_day.attendance_text(ctx.session, ctx.config, ctx.branch_id)


def attend(ctx: Context) -> str:
    """参加 — 确认参加本支部下一次主题党日"""
    return _guarded(lambda: theme_day.attend(ctx.session, ctx.config, ctx.member))


def leave(ctx: Context) -> str:
    """请假 原因 — 不能参加主题党日时请假（书记审批）"""
    return _guarded(lambda: theme_day.request_leave(ctx.session, ctx.config, ctx.member, ctx.raw_args))


def sign_in(ctx: Context) -> str:
    """签到 码 — 主题党日现场签到"""
    code = re.sub(r"^码\s*[:,]?\s*(?=\d)", "", ctx.args)  # 「签到码1296」 is 签到 1296
    return _guarded(lambda: theme_day.sign_in(ctx.session, ctx.config, ctx.member, code))


def manual_sign_in(ctx: Context) -> str:
    """补签到 编号 成员 — 为没能签上到的党员手工签到（如 补签到 #12 张三）"""
    return _guarded(lambda: theme_day_fix.manual_sign_in(ctx.session, ctx.config, ctx.member, ctx.branch_id,
                                                         ctx.args, "branch_id" in ctx.state))


def excuse(ctx: Context) -> str:
    """准假 编号 成员 原因 — 事后准许党员缺席主题党日（记为请假）"""
    heads, reason = ctx.split(2)
    return _guarded(lambda: theme_day_fix.excuse(ctx.session, ctx.config, ctx.member, ctx.branch_id, heads, reason,
                                                 f"准假 {ctx.args.strip()}", "branch_id" in ctx.state))


def cancel_leave(ctx: Context) -> str:
    """销假 — 撤回自己对下一次主题党日的请假（恢复应到）"""
    return _guarded(lambda: theme_day_fix.cancel_leave(ctx.session, ctx.config, ctx.member))


def register_corrections(router: Router) -> None:
    """补签到 is tried before study's 补签 (routes are tried in order; see handlers/__init__.py)."""
    router.add(Prefix("补签到"), manual_sign_in, roles=SECRETARY_ROLES)


def register(router: Router) -> None:
    router.add(Word("参加"), attend)
    router.add(Prefix("请假"), leave)
    router.add(Word("签到码"), code, roles=SECRETARY_ROLES)
    router.add(Prefix("签到"), sign_in)
    router.add(Prefix("发布主题党日"), publish, roles=SECRETARY_ROLES)
    router.add(Prefix("推迟"), postpone, roles=SECRETARY_ROLES)
    router.add(Prefix("取消"), cancel, roles=SECRETARY_ROLES)
    router.add(Word("出勤"), attendance, roles=SECRETARY_ROLES)
    router.add(Prefix("准假"), excuse, roles=SECRETARY_ROLES)
    router.add(Word("销假"), cancel_leave)
