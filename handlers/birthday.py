"""政治生日: 退订生日 / 订阅生日 for members (the secretary's talk tasks are closed with 完成, handlers/done.py)."""

from bot.router import Context, Router
from handlers.preferences import AREA, switch


def optout(ctx: Context) -> str:
    """退订生日 — 不再接收政治生日祝福"""
    return switch(ctx, "birthday_optout", True, "birthday.off", "birthday.already_off")


def optin(ctx: Context) -> str:
    """订阅生日 — 恢复接收政治生日祝福"""
    return switch(ctx, "birthday_optout", False, "birthday.on", "birthday.already_on")


def register(router: Router) -> None:
    router.command("退订生日", optout, bare=True, area=AREA)
    router.command("订阅生日", optin, bare=True, area=AREA)
