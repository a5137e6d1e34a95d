"""待审 / 通过 / 驳回: the secretary's approvals, whatever the request's kind."""

from bot import texts
from bot.router import SECRETARY_ROLES, Context, Prefix, Router, Word
from bot.services import approvals


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


def _decide(ctx: Context, approve: bool) -> str:
    heads, reason = ctx.split(1)
    number = approvals.parse_number(heads[0]) if heads and heads[0] else None
    if number is None:
        return texts.t("approval.usage_approve" if approve else "approval.usage_reject")
    try:
        request = approvals.decide(ctx.session, ctx.config, ctx.member, number, approve, reason)
    except approvals.ApprovalError as exc:
        return str(exc)
    label = approvals.label(request.kind)
    key = "approval.approved_reply" if approve else "approval.rejected_reply"
    return texts.t(key, number=number, label=label, summary=request.summary)


def approve(ctx: Context) -> str:
    """通过 编号 — 批准申请（如 通过 #12）"""
    return _decide(ctx, True)


def reject(ctx: Context) -> str:
    """驳回 编号 原因 — 驳回申请并说明原因"""
    return _decide(ctx, False)


def register(router: Router) -> None:
    router.add(Word("待审"), pending, roles=SECRETARY_ROLES)
    router.add(Prefix("通过"), approve, roles=SECRETARY_ROLES)
    router.add(Prefix("驳回"), reject, roles=SECRETARY_ROLES)
