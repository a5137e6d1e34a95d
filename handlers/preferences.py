"""免打扰 / 取消免打扰: a member pauses or resumes non-urgent pushes."""

from bot import audit, texts
from bot.router import Context, Router, Word


def dnd_on(ctx: Context) -> str:
    """免打扰 — 暂停主动推送（紧急通知除外）"""
    if ctx.member.do_not_disturb:
        return texts.t("dnd.already_on")
    ctx.member.do_not_disturb = True
    ctx.session.add(ctx.member)
    audit.record(ctx.session, ctx.member.userid, "do_not_disturb", ctx.member.userid, "on")
    return texts.t("dnd.on")


def dnd_off(ctx: Context) -> str:
    """取消免打扰 — 恢复每日推送"""
    if not ctx.member.do_not_disturb:
        return texts.t("dnd.already_off")
    ctx.member.do_not_disturb = False
    ctx.session.add(ctx.member)
    audit.record(ctx.session, ctx.member.userid, "do_not_disturb", ctx.member.userid, "off")
    return texts.t("dnd.off")


def register(router: Router) -> None:
    router.add(Word("免打扰"), dnd_on)
    router.add(Word("取消免打扰"), dnd_off)
