"""`/admin/approvals`: everything waiting for the signed-in person (the same list and rules as 待审), with
通过 and 驳回 (a reason) posting to `/admin/approvals/<N>/approve|reject`, decided by `approvals.decide`
exactly as the chat commands do (who may decide, nobody their own request, the member told, audited).

Only a roster member decides: an operator account sees the list of every branch but cannot decide.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from bot import clock
from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export
from bot.models import Approval, Branch, Member
from bot.services import approvals
from bot.services.approvals import ApprovalError

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


def _page(errors: dict[int, str] | None = None, status: int = 200) -> ResponseReturnValue:
    with runtime().session() as s:
        rows = _rows(s)
        can_decide = acting_member(s) is not None
    if wants_export():
        return download("待审", HEADER, [(r["number"], r["kind"], r["member"], r["branch"], r["summary"],
                                          r["created"].replace(tzinfo=None) if r["created"] else None)
                                         for r in rows])
    return render_template("admin/approvals.html", rows=rows, can_decide=can_decide, errors=errors or {},
                           reasons=request.form if errors else {}, export=export_url()), status


@bp.get("/approvals")
@area("branch")
def approvals_list() -> ResponseReturnValue:
    return _page()


def _decide(number: int, approve: bool) -> ResponseReturnValue:
    reason = " ".join(request.form.get("reason", "").split())[:500]
    if not approve and not reason:
        return _page({number: "驳回须写明原因，党员会收到这条原因。"}, 400)
    try:
        with runtime().write() as s:
            decider = acting_member(s)
            if decider is None:
                raise ApprovalError("运维账号不能审批：请用企业微信登录，以书记或党委委员身份审批。")
            request_row = approvals.decide(s, runtime().config, decider, number, approve, reason)
            done = f"#{request_row.number} 已{'通过' if approve else '驳回'}，已通知本人。"
    except ApprovalError as exc:
        return _page({number: str(exc)}, 400)
    flash(done, "ok")
    return redirect(url_for("admin.approvals_list"))


@bp.post("/approvals/<int:number>/approve")
@area("branch")
def approval_approve(number: int) -> ResponseReturnValue:
    return _decide(number, True)


@bp.post("/approvals/<int:number>/reject")
@area("branch")
def approval_reject(number: int) -> ResponseReturnValue:
    return _decide(number, False)
