"""`/admin/reviews`: review rounds (述评) held as disputed, with the disputes, and 裁定 through
`reviews.rule` (committee only, as in chat: 维持, or 修改 with a new conclusion; an explanation always)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from bot.admin.actions import act_on, item_page
from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, wants_export
from bot.models import Branch, Member, Review
from bot.services import reviews

STATUS = {"notice": "公示中", "disputed": "有异议"}
HEADER = ("编号", "党员", "支部", "轮次", "自评", "积分", "状态", "异议数")


def _rows(session: Session) -> list[dict[str, Any]]:
    found = list(session.exec(select(Review).where(col(Review.status).in_(tuple(STATUS)))
                              .order_by(col(Review.status), col(Review.number)).limit(300)))
    names = {m.id: m.name for m in session.exec(select(Member).where(col(Member.id).in_([r.member_id
                                                                                        for r in found])))}
    branches = {b.id: b.name for b in session.exec(select(Branch))}
    return [{"number": r.number, "member": names.get(r.member_id, ""), "branch": branches.get(r.branch_id, ""),
             "period": r.period, "text": r.text, "points": r.points, "status": STATUS[r.status],
             "disputed": r.status == "disputed", "disputes": [d.text for d in reviews.disputes(session, r)]}
            for r in found]


@bp.get("/reviews")
@area("global")
def reviews_list(errors: dict[int, str] | None = None) -> ResponseReturnValue:
    """The review rounds; after a refused action (`errors`), with the reason on that item's card (400)."""
    with runtime().session() as s:
        rows = _rows(s)
        can_rule = acting_member(s) is not None
    if wants_export():
        return download("述评", HEADER, [(r["number"], r["member"], r["branch"], r["period"], r["text"], r["points"],
                                          r["status"], len(r["disputes"])) for r in rows])
    return item_page("admin/reviews.html", errors, rows=rows, can_rule=can_rule)


@bp.post("/reviews/<int:number>/rule")
@area("global")
def review_rule(number: int) -> ResponseReturnValue:
    outcome = request.form.get("outcome", "")
    conclusion = " ".join(request.form.get("conclusion", "").split())[:200]
    note = " ".join(request.form.get("note", "").split())[:500]
    def act(s: Session, cfg: Any, actor: Member) -> str:
        reviews.rule(s, cfg, actor, number, outcome, conclusion if outcome == "修改" else "", note)
        return f"#{number} 已裁定（{outcome}），已通知本人和提出异议的党员。"

    return act_on(number, act, verb="裁定", who="党委委员", page=reviews_list, then=url_for("admin.reviews_list"))
