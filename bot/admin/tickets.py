"""`/admin/tickets`: problems and suggestions, overdue and escalated first; 定级, 指派, 回复, 办结 and 采纳
through the same `tickets` service functions as the chat commands (who may handle which ticket, the
reporter told, the audit written). An anonymous reporter is shown as 匿名, never anything else.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, false, func, or_
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.admin.actions import act_on, item_page
from bot.admin.base import acting_member, bp, not_found, runtime
from bot.admin.principal import area
from bot.admin.queries import MAX_PAGE, Page
from bot.admin.tables import download, wants_export
from bot.models import Branch, Member, Ticket, TicketEscalation
from bot.services.tickets import core as tickets
from bot.services.tickets import handling as ticket_handling

HEADER = ("编号", "类别", "反映人", "支部", "分类", "内容", "等级", "办理期限", "承办人", "状态")
ACTIONS = ("grade", "assign", "reply", "close", "adopt")
PER_PAGE = 50
EXPORT_MAX = 5000


def _scope(actor: Member | None) -> Any:
    """The SQL form of `tickets.may_handle` for the whole list: an operator account and committee members see
    every ticket; a secretary or deputy those of their branch and those escalated to it; anyone else none."""
    if actor is None or actor.has_role("committee"):
        return None
    if not actor.has_role("secretary", "deputy") or actor.branch_id is None:
        return false()
    escalated = select(TicketEscalation.ticket_id).where(TicketEscalation.branch_id == actor.branch_id)
    return or_(col(Ticket.branch_id) == actor.branch_id, col(Ticket.id).in_(escalated))


def _visible(session: Session, page: int, per_page: int) -> Page:
    """One page of the tickets this person may handle: open before closed, overdue and escalated first. The
    scope is part of the query, so the page and its count are of the visible tickets only."""
    today = clock.today()
    overdue = case((col(Ticket.due_on) < today, 0), else_=1)
    where = _scope(acting_member(session))
    stmt = select(Ticket) if where is None else select(Ticket).where(where)
    count = select(func.count()).select_from(Ticket)
    total = session.exec(count if where is None else count.where(where)).one()
    page = min(max(page, 1), MAX_PAGE)
    stmt = (stmt.order_by(col(Ticket.status).desc(), overdue, col(Ticket.level).desc(), col(Ticket.number))
            .limit(per_page).offset((page - 1) * per_page))
    return Page(list(session.exec(stmt)), page, per_page, total=total)


def _rows(session: Session, found: list[Ticket]) -> list[dict[str, Any]]:
    branches = {b.id: b.name for b in session.exec(select(Branch))}
    today = clock.today()
    rows = []
    for t in found:
        assignee = session.get(Member, t.assignee_id) if t.assignee_id else None
        rows.append({"number": t.number, "kind": tickets.label(t), "who": tickets.who(session, t),
                     "branch": branches.get(t.branch_id, ""), "category": t.category, "text": t.text,
                     "grade": t.grade or "", "due": t.due_on, "assignee": assignee.name if assignee else "",
                     "open": t.status == "open", "overdue": t.status == "open" and t.due_on is not None
                     and t.due_on < today, "escalated": t.level > 0, "suggestion": t.kind == "suggestion",
                     "adopted": t.adopted, "status": texts.label("ticket_status", t.status)})
    return rows


@bp.get("/tickets")
@area("branch")
def tickets_list(errors: dict[int, str] | None = None) -> ResponseReturnValue:
    """The tickets the signed-in person may see; after a refused action, with the reason on that card (400)."""
    raw = request.args.get("page", "1")
    exporting = wants_export() is not None
    with runtime().session() as s:
        page = _visible(s, 1 if exporting else int(raw[:7]) if raw.isdigit() else 1,
                        EXPORT_MAX if exporting else PER_PAGE)
        rows = _rows(s, page.items)
        can_act = acting_member(s) is not None
    if exporting:
        return download("问题建议", HEADER, [(r["number"], r["kind"], r["who"], r["branch"], r["category"], r["text"],
                                              r["grade"], r["due"], r["assignee"], r["status"]) for r in rows])
    return item_page("admin/tickets.html", errors, rows=rows, page=page, can_act=can_act,
                     grades=list(tickets.GRADE_KEYS))


@bp.post("/tickets/<int:number>/<action>")
@area("branch")
def ticket_act(number: int, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        return not_found("没有这个操作。")
    text = " ".join(request.form.get("text", "").split())[:500]
    if action in ("assign", "reply", "close") and not text:
        need = {"assign": "请填写承办人（工号或姓名）。", "reply": "请填写回复内容。", "close": "请填写办结说明。"}
        return tickets_list({number: need[action]})
    def act(s: Session, cfg: Any, actor: Member) -> str:
        if action == "grade":
            ticket_handling.grade(s, cfg, actor, number, request.form.get("grade", ""))
        elif action == "assign":
            ticket_handling.assign(s, cfg, actor, number, ticket_handling.assignee_for(s, actor, number, text))
        elif action == "reply":
            ticket_handling.answer(s, cfg, actor, number, text)
        elif action == "close":
            ticket_handling.close(s, cfg, actor, number, text)
        else:
            ticket_handling.adopt(s, cfg, actor, number)
        done = {"grade": "已定级", "assign": "已指派", "reply": "已回复", "close": "已办结", "adopt": "已采纳"}[action]
        return f"#{number} {done}，已通知反映人。"

    return act_on(number, act, verb="办理", who="书记或党委委员", page=tickets_list, then=url_for("admin.tickets_list"))
