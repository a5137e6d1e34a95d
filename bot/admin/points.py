"""`/admin/points`: the year's table per branch (total, categories, band, status, veto) from
`ranking.standings`, the same numbers as 积分 and the reports; `/admin/points/<userid>` is one member's
ledger line by line (base, every entry with its reason, the veto). A secretary sees their own branch."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request
from flask.typing import ResponseReturnValue
from sqlmodel import select

from bot.admin.base import bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export
from bot.models import Branch, Member
from bot.services.points import core as points
from bot.services.points import ranking


def _year() -> int:
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else points.current_year()


@bp.get("/points")
@area("branch")
def points_table() -> ResponseReturnValue:
    year, cfg = _year(), runtime().config
    raw = request.args.get("branch", "")
    branch_id = g.admin.branch_filter() if g.admin.branch_filter() is not None else (
        int(raw) if raw.isdigit() and len(raw) < 10 else None)
    with runtime().session() as s:
        rows = ranking.standings(s, cfg, year, branch_id)
        branches = [b for b in s.exec(select(Branch).order_by(Branch.code)) if g.admin.sees_branch(b.id)]
        cats = points.categories(cfg, {c for r in rows for c in r.by_category})
    labels = [points.label("categories", c) for c in cats]
    table: list[dict[str, Any]] = [
        {"userid": r.member.userid, "name": r.member.name, "branch": r.branch.name if r.branch else "",
              "cats": [r.by_category.get(c, 0) for c in cats], "total": r.total, "band": r.band,
              "rank": r.rank, "status": points.label("statuses", r.status), "vetoed": r.vetoed} for r in rows]
    if wants_export():
        header = ("支部", "工号", "姓名", *labels, "总分", "名次", "档次", "状态", "一票否决")
        return download(f"{year}年积分", header, [(t["branch"], t["userid"], t["name"], *t["cats"], t["total"],
                                                     t["rank"], t["band"], t["status"], "是" if t["vetoed"] else "")
                                                    for t in table])
    return render_template("admin/points.html", rows=table, labels=labels, year=year, branches=branches,
                           branch_id=branch_id, export=export_url())


@bp.get("/points/<userid>")
@area("branch")
def points_ledger(userid: str) -> ResponseReturnValue:
    year = _year()
    with runtime().session() as s:
        member = s.exec(select(Member).where(Member.userid == userid.strip().lower()[:64])).first()
        if member is None or not g.admin.sees_branch(member.branch_id):
            abort(404)
        entries = points.entries(s, member, year)
        standing = ranking.standing_of(s, runtime().config, member, year)
        veto = points.veto_of(s, member, year)
    lines = [{"day": e.period, "rule": points.label("rules", e.rule),
              "category": points.label("categories", e.category), "points": e.points,
              "reason": e.reason, "actor": e.actor} for e in entries]
    if wants_export():
        return download(f"{member.name}{year}年积分明细", ("日期", "项目", "类别", "分值", "原因", "记录人"),
                        [(x["day"], x["rule"], x["category"], x["points"], x["reason"], x["actor"]) for x in lines])
    return render_template("admin/points_ledger.html", member=member, lines=lines, year=year, standing=standing,
                           veto=veto, base=runtime().config.points.base,
                           status=points.label("statuses", standing.status), export=export_url())
