"""`/admin/commitments`: the year's commitments (承诺 / 即时承诺) with their progress reports, votes and
satisfaction, and 完成 through `commitments.fulfil` (the chat's rule: a secretary of the owner's branch or
a committee member, never the owner; points and the satisfaction vote follow). Approval itself is on
`/admin/approvals` (the commitment's own number)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export
from bot.models import Branch, Commitment, Member
from bot.services import commitments
from bot.services.commitments import CommitmentError
from bot.services.points import core as pts

HEADER = ("编号", "党员", "支部", "类别", "承诺内容", "状态", "践诺次数", "满意", "投票", "满意率")
KINDS = {"yearly": "年度承诺", "instant": "即时承诺"}


def _rows(session: Session, year: int) -> list[dict[str, Any]]:
    stmt = select(Commitment).where(Commitment.year == year).order_by(col(Commitment.number))
    only = g.admin.branch_filter()
    if only is not None:
        stmt = stmt.where(Commitment.branch_id == only)
    found = list(session.exec(stmt.limit(500)))
    names = {m.id: m.name for m in session.exec(select(Member).where(col(Member.id).in_([c.member_id
                                                                                        for c in found])))}
    branches = {b.id: b.name for b in session.exec(select(Branch))}
    out = []
    for c in found:
        satisfied, votes = commitments.tally(session, c)
        out.append({"number": c.number, "member": names.get(c.member_id, ""), "branch": branches.get(c.branch_id, ""),
                    "kind": KINDS.get(c.kind, c.kind), "text": c.text, "status": commitments.status_label(c),
                    "approved": c.status == "approved",
                    "progress": [p.text for p in commitments.progress_of(session, c)], "satisfied": satisfied,
                    "votes": votes, "rate": f"{satisfied / votes:.0%}" if votes else "",
                    "escalated": c.escalated_at is not None})
    return out


@bp.get("/commitments")
@area("branch")
def commitments_list() -> ResponseReturnValue:
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else pts.current_year()
    with runtime().session() as s:
        rows = _rows(s, year)
        can_act = acting_member(s) is not None
    if wants_export():
        return download(f"{year}年承诺", HEADER, [(r["number"], r["member"], r["branch"], r["kind"], r["text"],
                                                   r["status"], len(r["progress"]), r["satisfied"], r["votes"],
                                                   r["rate"]) for r in rows])
    return render_template("admin/commitments.html", rows=rows, year=year, can_act=can_act, export=export_url())


@bp.post("/commitments/<int:number>/fulfil")
@area("branch")
def commitment_fulfil(number: int) -> ResponseReturnValue:
    try:
        with runtime().write() as s:
            actor = acting_member(s)
            if actor is None:
                raise CommitmentError("运维账号不能操作：请用企业微信登录，以书记或党委委员身份操作。")
            commitments.fulfil(s, runtime().config, actor, number)
    except CommitmentError as exc:
        flash(f"#{number}：{exc}", "error")
        return redirect(url_for("admin.commitments_list"))
    flash(f"#{number} 已确认践诺完成，已加分并请支部党员评价。", "ok")
    return redirect(url_for("admin.commitments_list"))
