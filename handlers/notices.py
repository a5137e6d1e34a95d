"""通知 (a member's folded notices) and 紧急通知 (secretaries: an urgent text to the whole branch)."""

from bot.router import SECRETARY_ROLES, Context, Prefix, Router, Word
from bot.services import notices


def folded(ctx: Context) -> str:
    """通知 — 查看近两日汇总未单独推送的通知"""
    return notices.folded(ctx.session, ctx.config, ctx.member)


def urgent(ctx: Context) -> str:
    """紧急通知 文字 — 立即发给本支部全体党员（夜间和免打扰也送达）"""
    return notices.urgent(ctx.session, ctx.config, ctx.member, ctx.branch_id, ctx.raw_args)


def register(router: Router) -> None:
    router.add(Word("通知"), folded)
    router.add(Prefix("紧急通知"), urgent, roles=SECRETARY_ROLES)
