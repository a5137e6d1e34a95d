"""`/admin/commitments`: the year's commitments (承诺 / 即时承诺) with their progress reports, votes and
satisfaction, and 完成 through `commitments.fulfil` (the chat's rule: a secretary of the owner's branch or
a committee member, never the owner; points and the satisfaction vote follow). Approval itself is on
`/admin/approvals` (the commitment's own number)."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.admin.actions import act_on, item_page
from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.queries import MAX_PAGE, Page
from bot.admin.tables import download, wants_export
from bot.models import Branch, Commitment, Member
from bot.services import commitments
from bot.services.points import core as pts

HEADER = ("编号", "党员", "支部", "类别", "承诺内容", "状态", "践诺次数", "满意", "投票", "满意率")
KINDS = {"yearly": "年度承诺", "instant": "即时承诺"}
PER_PAGE = 50
EXPORT_MAX = 5000


def _rows(session: Session, year: int, page: int, per_page: int) -> tuple[Page, list[dict[str, Any]]]:
    """One page of the year's commitments in the person's scope (the branch filter is in the query, before
    the page is cut), as rows for the page."""
    where = [Commitment.year == year]
    only = g.admin.branch_filter()
    if only is not None:
        where.append(Commitment.branch_id == only)
    total = session.exec(select(func.count()).select_from(Commitment).where(*where)).one()
    page = min(max(page, 1), MAX_PAGE)
    found = list(session.exec(select(Commitment).where(*where).order_by(col(Commitment.number))
                              .limit(per_page).offset((page - 1) * per_page)))
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
    return Page(found, page, per_page, total=total), out


@bp.get("/commitments")
@area("branch")
def commitments_list(errors: dict[int, str] | None = None) -> ResponseReturnValue:
    """The year's page; after a refused action, with the reason on that commitment's card (400)."""
    raw = request.args.get("year", "") or request.form.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else pts.current_year()
    raw_page = request.args.get("page", "1")
    exporting = wants_export() is not None
    with runtime().session() as s:
        page, rows = _rows(s, year, 1 if exporting else int(raw_page[:7]) if raw_page.isdigit() else 1,
                           EXPORT_MAX if exporting else PER_PAGE)
        can_act = acting_member(s) is not None
    if exporting:
        return download(f"{year}年承诺", HEADER, [(r["number"], r["member"], r["branch"], r["kind"], r["text"],
                                                   r["status"], len(r["progress"]), r["satisfied"], r["votes"],
                                                   r["rate"]) for r in rows])
    return item_page("admin/commitments.html", errors, rows=rows, page=page, year=year, can_act=can_act)


@bp.post("/commitments/<int:number>/fulfil")
@area("branch")
def commitment_fulfil(number: int) -> ResponseReturnValue:
    def act(s: Session, cfg: Any, actor: Member) -> str:
        commitments.fulfil(s, cfg, actor, number)
        return f"#{number} 已确认践诺完成，已加分并请支部党员评价。"

    year = request.form.get("year", "")
    return act_on(number, act, verb="操作", who="书记或党委委员", page=commitments_list,
                  then=url_for("admin.commitments_list", year=year if year.isdigit() else None))
