"""待审 / 通过 / 驳回: the secretary's approvals, whatever the request's kind."""

from bot import texts
from bot.router import SECRETARY_ROLES, Context, Number, Router, Text
from bot.services import approvals

AREA = "支部管理"


def pending(ctx: Context) -> str:
    """待审 — 查看待我审批的申请"""
    rows = approvals.pending_for(ctx.session, ctx.member, ctx.state.get("branch_id"))
    if not rows:
        return texts.t("approval.none")
    lines = [texts.t("approval.header", count=len(rows))]
    for r in rows:  # a long list goes out in pages (bot.paging)
        label = approvals.label(r.kind)
        lines.append(f"#{r.number} {label}：{r.summary}")
    lines.append(texts.t("approval.how"))
    return "\n".join(lines)


def _decide(ctx: Context, number: int, approve: bool, reason: str) -> str:
    request = approvals.decide(ctx.session, ctx.config, ctx.member, number, approve, reason)
    label = approvals.label(request.kind)
    key = "approval.approved_reply" if approve else "approval.rejected_reply"
    return texts.t(key, number=number, label=label, summary=request.summary)


def approve(ctx: Context, number: int, note: str) -> str:
    """通过 编号 — 批准申请（如 通过 #12）"""
    return _decide(ctx, number, True, note)


def reject(ctx: Context, number: int, reason: str) -> str:
    """驳回 编号 原因 — 驳回申请并说明原因"""
    return _decide(ctx, number, False, reason)


def register(router: Router) -> None:
    router.command("待审", pending, roles=SECRETARY_ROLES, bare=True, area=AREA)
    router.command("通过", approve, roles=SECRETARY_ROLES, area=AREA, example="#12",
                   args=(Number(), Text("说明", "note", optional=True, in_usage=False)))
    router.command("驳回", reject, roles=SECRETARY_ROLES, area=AREA, example="#12 日期不在补签期限内",
                   args=(Number(), Text("原因", "reason", optional=True, brackets=False)))
