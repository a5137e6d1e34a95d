"""`/admin/approvals`: everything waiting for the signed-in person (the same list and rules as 待审), with
通过 and 驳回 (a reason) posting to `/admin/approvals/<N>/approve|reject`, decided by `approvals.decide`
exactly as the chat commands do (who may decide, nobody their own request, the member told, audited).

Only a roster member decides: an operator account sees the list of every branch but cannot decide.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from bot import clock
from bot.admin.actions import act_on, item_page
from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, wants_export
from bot.models import Approval, Branch, Member
from bot.services import approvals

HEADER = ("编号", "类别", "党员", "支部", "内容", "提交时间")


def _pending(session: Session) -> list[Approval]:
    decider = acting_member(session)
    if decider is not None:
        return approvals.pending_for(session, decider)
    stmt = select(Approval).where(Approval.status == "pending").order_by(col(Approval.number)).limit(200)
    return list(session.exec(stmt))


def _rows(session: Session) -> list[dict[str, Any]]:
    found = _pending(session)
    names = {m.id: m.name for m in session.exec(select(Member).where(col(Member.id).in_([r.member_id for r in found])))}
    branches = {b.id: b.name for b in session.exec(select(Branch))}
    return [{"number": r.number, "kind": approvals.label(r.kind),
             "member": names.get(r.member_id, ""), "branch": branches.get(r.branch_id, ""), "summary": r.summary,
             "created": clock.local(r.created_at) if r.created_at else None} for r in found]


@bp.get("/approvals")
@area("branch")
def approvals_list(errors: dict[int, str] | None = None) -> ResponseReturnValue:
    """What waits for the signed-in person; after a refused action, with the reason on that card (400)."""
    with runtime().session() as s:
        rows = _rows(s)
        can_decide = acting_member(s) is not None
    if wants_export():
        return download("待审", HEADER, [(r["number"], r["kind"], r["member"], r["branch"], r["summary"],
                                          r["created"].replace(tzinfo=None) if r["created"] else None)
                                         for r in rows])
    return item_page("admin/approvals.html", errors, rows=rows, can_decide=can_decide)


def _decide(number: int, approve: bool) -> ResponseReturnValue:
    reason = " ".join(request.form.get("reason", "").split())[:500]
    if not approve and not reason:
        return approvals_list({number: "驳回须写明原因，党员会收到这条原因。"})
    def act(s: Session, cfg: Any, decider: Member) -> str:
        request_row = approvals.decide(s, cfg, decider, number, approve, reason)
        return f"#{request_row.number} 已{'通过' if approve else '驳回'}，已通知本人。"

    return act_on(number, act, verb="审批", who="书记或党委委员", page=approvals_list,
                  then=url_for("admin.approvals_list"))


@bp.post("/approvals/<int:number>/approve")
@area("branch")
def approval_approve(number: int) -> ResponseReturnValue:
    return _decide(number, True)


@bp.post("/approvals/<int:number>/reject")
@area("branch")
def approval_reject(number: int) -> ResponseReturnValue:
    return _decide(number, False)
