"""免打扰 / 取消免打扰: a member pauses or resumes non-urgent pushes."""

from bot import audit, texts
from bot.router import Context, Router

AREA = "设置"


def switch(ctx: Context, flag: str, value: bool, done_key: str, already_key: str) -> str:
    """Set the sender's yes/no preference `flag` (a Member column), audited; `already_key` when it was so."""
    if getattr(ctx.member, flag) == value:
        return texts.t(already_key)
    setattr(ctx.member, flag, value)
    ctx.session.add(ctx.member)
    audit.record(ctx.session, ctx.member.userid, flag, ctx.member.userid, "on" if value else "off")
    return texts.t(done_key)


def dnd_on(ctx: Context) -> str:
    """免打扰 — 暂停晨学、提醒和通知（回复、紧急通知、本支部活动和值班提醒照常）"""
    return switch(ctx, "do_not_disturb", True, "dnd.on", "dnd.already_on")


def dnd_off(ctx: Context) -> str:
    """取消免打扰 — 恢复每日推送"""
    return switch(ctx, "do_not_disturb", False, "dnd.off", "dnd.already_off")


def register(router: Router) -> None:
    router.command("免打扰", dnd_on, bare=True, area=AREA, basic=True)
    router.command("取消免打扰", dnd_off, bare=True, area=AREA)
