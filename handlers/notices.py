"""通知 (a member's folded notices) and 紧急通知 (secretaries: an urgent text to the whole branch)."""

from bot import texts, wording
from bot.router import SECRETARY_ROLES, Context, Router, Text
from bot.services import notices


def folded(ctx: Context) -> str:
    """通知 — 查看近两日汇总未单独推送的通知"""
    return wording.folded(notices.folded(ctx.session, ctx.config, ctx.member))


def urgent(ctx: Context, text: str) -> str:
    """紧急通知 文字 — 立即发给本支部全体党员（夜间和免打扰也送达）"""
    count = notices.urgent(ctx.session, ctx.config, ctx.member, ctx.branch_id, text)
    return texts.t("outbox.urgent_done", count=count)


def register(router: Router) -> None:
    router.command("通知", folded, bare=True, area="设置")
    router.command("紧急通知", urgent, roles=SECRETARY_ROLES, area="支部管理", example="今晚暴雨，明早活动改线上",
                   note="立即发给本支部全体在册党员，免打扰和夜间也会送达", args=(Text("文字", "text"),))
