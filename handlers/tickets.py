"""问题与建议: 反映 / 建议 / 匿名反映, 进度, the secretary's 定级 / 指派 / 回复 / 办结 / 采纳, and 满意 / 不满意
(one handler for tickets and commitments: the number says which)."""

from typing import Any

from bot import clock, texts, wording
from bot.models import CaseNumber, Member
from bot.router import SECRETARY_ROLES, Choice, Context, Number, Router, Text, Who
from bot.router.context import ARG_SEP
from bot.services import commitments
from bot.services.approvals import parse_number
from bot.services.tickets import core as tickets
from bot.services.tickets import escalation as tickets_escalation
from bot.services.tickets import handling as ticket_handling

MIN_TEXT = 4
AREA = "反映问题"


def _file(ctx: Context, kind: str, anonymous: bool, text: str) -> str:
    ticket = tickets.report(ctx.session, ctx.config, ctx.member, kind, text, anonymous, ctx.state.get("branch_id"))
    key = "tickets.filed_anonymous" if anonymous else f"tickets.filed_{kind}"
    return texts.t(key, number=ticket.number, category=ticket.category,
                   due=ticket.due_on.isoformat() if ticket.due_on else "-")


def problem(ctx: Context, text: str) -> str:
    """反映 文字 — 向支部反映问题"""
    return _file(ctx, "problem", False, text)


def suggestion(ctx: Context, text: str) -> str:
    """建议 文字 — 提出意见建议"""
    return _file(ctx, "suggestion", False, text)


def anonymous(ctx: Context, text: str) -> str:
    """匿名反映 文字 — 匿名反映问题（不留身份）"""
    return _file(ctx, "problem", True, text)


def _view(ctx: Context, ticket, handler: bool) -> str:
    grade = ticket.grade or texts.t("tickets.ungraded")
    lines = [texts.t("tickets.view_head", number=ticket.number, kind=tickets.label(ticket), category=ticket.category,
                     status=texts.label("ticket_status", ticket.status)),
             texts.t("tickets.view_grade", grade=grade, due=ticket.due_on.isoformat() if ticket.due_on else "-")]
    if handler:
        lines.append(texts.t("tickets.view_reporter", who=tickets.who(ctx.session, ticket)))
    assignee = ctx.session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    if assignee is not None:
        lines.append(texts.t("tickets.view_assignee", name=assignee.name))
    lines.append(texts.t("tickets.view_text", text=ticket.text[:200]))
    for event in tickets.events(ctx.session, ticket)[-5:]:
        if event.action in ("replied", "closed", "adopted") and event.text:
            day = clock.local(event.at).strftime("%m-%d") if event.at else ""
            lines.append(texts.t(f"tickets.view_{event.action}", day=day, text=event.text[:200]))
    if ticket.status == "closed" and ticket.rating is None and not handler:
        lines.append(texts.t("tickets.view_rate", number=ticket.number))
    return "\n".join(lines)


def _listing(ctx: Context) -> str:
    """The sender's own tickets; for a secretary also the branch's open ones (overdue marked); for a committee
    member also every escalated ticket still open."""
    rows = tickets.mine(ctx.session, ctx.config, ctx.member)
    ctx.sealed = ctx.sealed or any(t.anonymous for t in rows)  # the reply ties the sender to their reports
    lines = [texts.t("tickets.mine_head")] if rows else []
    lines += [texts.t("tickets.mine_line", number=t.number, kind=tickets.label(t), text=t.text[:20],
                      status=texts.label("ticket_status", t.status)) for t in rows]
    if ctx.member.has_role(*SECRETARY_ROLES) and ctx.branch_id is not None:
        pending = tickets.open_in(ctx.session, ctx.branch_id)
        lines.append(texts.t("tickets.open_head", count=len(pending)) if pending else texts.t("tickets.open_none"))
        today = clock.today()
        for t in pending[:10]:
            late = texts.t("tickets.overdue") if t.due_on and t.due_on < today else ""
            lines.append(texts.t("tickets.open_line", number=t.number, kind=tickets.label(t), text=t.text[:20],
                                 grade=t.grade or texts.t("tickets.ungraded"),
                                 due=t.due_on.isoformat() if t.due_on else "-", late=late))
    if ctx.member.has_role("committee"):
        lines += _escalated(ctx)
    if not lines:
        return texts.t("tickets.mine_none")
    lines.append(texts.t("tickets.mine_footer"))
    return "\n".join(lines)


def _escalated(ctx: Context) -> list[str]:
    rows = tickets_escalation.escalated_open(ctx.session)
    if not rows:
        return []
    today = clock.today()
    lines = [texts.t("tickets.escalated_head", count=len(rows))]
    for t in rows[:10]:
        late = texts.t("tickets.overdue") if t.due_on and t.due_on < today else ""
        lines.append(texts.t("tickets.open_line", number=t.number, kind=tickets.label(t), text=t.text[:20],
                             grade=t.grade or texts.t("tickets.ungraded"),
                             due=t.due_on.isoformat() if t.due_on else "-", late=late))
    if len(rows) > 10:
        lines.append(texts.t("batch.more", count=len(rows) - 10))
    return lines


def progress(ctx: Context, number: int | None) -> str:
    """进度 [编号] — 查看反映的办理进度"""
    if number is None:
        return _listing(ctx)
    ticket = tickets.find(ctx.session, number)
    if ticket is None:
        return texts.t("tickets.not_found", number=number)
    ctx.sealed = ctx.sealed or ticket.anonymous
    if tickets.is_reporter(ctx.config, ticket, ctx.member):
        return _view(ctx, ticket, handler=False)
    if tickets.may_handle(ctx.session, ctx.member, ticket, ctx.state.get("branch_id")):
        return _view(ctx, ticket, handler=True)
    return texts.t("tickets.not_yours", number=number)


def _seal(ctx: Context, number: int) -> int:
    """A command about an anonymous report keeps no trace of who sent it (bot.inbound): sealed as soon as
    its ticket number is read, so a refusal of a later argument is sealed too."""
    ticket = tickets.find(ctx.session, number)
    ctx.sealed = ctx.sealed or bool(ticket and ticket.anonymous)
    return number


TICKET = Number(load=_seal)  # a ticket's number, sealing the command when the ticket is anonymous


def grade(ctx: Context, number: int, grade: str) -> str:
    """定级 编号 急难|重大|一般|萌芽 — 定级并确定办理期限"""
    t = ticket_handling.grade(ctx.session, ctx.config, ctx.member, number, grade, ctx.state.get("branch_id"))
    assert t.due_on is not None  # set by grade
    return texts.t("tickets.graded", number=number, grade=grade, due=t.due_on.isoformat())


def assign(ctx: Context, number: int, member: Member) -> str:
    """指派 编号 成员 — 指定第一责任人（工号或姓名）"""
    _, person = ticket_handling.assign(ctx.session, ctx.config, ctx.member, number, member, ctx.state.get("branch_id"))
    return texts.t("tickets.assigned", number=number, name=person.name)


def reply(ctx: Context, number: int, text: str) -> str:
    """回复 编号 文字 — 答复反映人"""
    ticket_handling.answer(ctx.session, ctx.config, ctx.member, number, text, ctx.state.get("branch_id"))
    return texts.t("tickets.replied", number=number)


def close(ctx: Context, number: int, text: str) -> str:
    """办结 编号 说明 — 办结并请反映人评价"""
    ticket_handling.close(ctx.session, ctx.config, ctx.member, number, text, ctx.state.get("branch_id"))
    return texts.t("tickets.closed", number=number)


def adopt(ctx: Context, number: int) -> str:
    """采纳 编号 — 采纳建议并办结（建议人加分）"""
    ticket_handling.adopt(ctx.session, ctx.config, ctx.member, number, ctx.state.get("branch_id"))
    return texts.t("tickets.adopted", number=number)


def _rate(ctx: Context, number: int, satisfied: bool) -> str:
    case = ctx.session.get(CaseNumber, number)
    if case is not None and case.kind == "ticket":
        ticket = tickets.get(ctx.session, number)
        ctx.sealed = ctx.sealed or ticket.anonymous
        return wording.rating(ticket_handling.rate(ctx.session, ctx.config, ctx.member, ticket, satisfied))
    if case is not None and case.kind == "commitment":
        row = commitments.get(ctx.session, number)
        return wording.vote(row, commitments.vote(ctx.session, ctx.config, ctx.member, row, satisfied))
    return texts.t("tickets.rate_unknown", number=number)


def satisfied(ctx: Context, number: int) -> str:
    """满意 / 不满意 编号 — 评价问题办理结果或党员承诺"""
    return _rate(ctx, number, True)


def unsatisfied(ctx: Context, number: int) -> str:
    """不满意 编号 — 不满意（问题可重新办理一次）"""
    return _rate(ctx, number, False)


def _own_ticket(ctx: Context) -> bool:
    """回复 / 办结 from the ticket's assignee (who need not be a secretary), for their own ticket."""
    number = parse_number(ARG_SEP.split(ctx.args.strip(), maxsplit=1)[0])  # 「办结：#12，已修复」 too
    return number is not None and tickets.is_assignee(ctx.session, ctx.member, number)


def _assignee(ctx: Context, token: str, values: dict[str, Any]) -> Member:
    return ticket_handling.assignee_for(ctx.session, ctx.member, values["number"], token, ctx.state.get("branch_id"))


def register(router: Router) -> None:
    least = f"至少 {MIN_TEXT} 个字"
    router.command("反映", problem, area=AREA, basic=True, example="车间东门照明坏了一周", note=least,
                   args=(Text("内容", min_len=MIN_TEXT),))
    router.command("建议", suggestion, area=AREA, example="食堂增加夜班餐", note=least,
                   args=(Text("内容", min_len=MIN_TEXT),))
    router.command("匿名反映", anonymous, area=AREA, anonymous=True, note=f"{least}；不会记录或显示您的身份",
                   args=(Text("内容", min_len=MIN_TEXT),))
    router.command("进度", progress, area=AREA, example="#12", note="只发「进度」列出您反映过的问题",
                   args=(Number(optional=True),))
    router.command("满意", satisfied, area=AREA, example="#12", args=(Number(),))
    router.command("不满意", unsatisfied, area=AREA, listed=False, example="#12", args=(Number(),))  # with 满意
    router.command("定级", grade, roles=SECRETARY_ROLES, area=AREA, example="#12 一般",
                   args=(TICKET, Choice("级别", "grade", choices=tuple(tickets.GRADE_KEYS))))
    router.command("指派", assign, roles=SECRETARY_ROLES, area=AREA, example="#12 张三", note="成员写工号或姓名",
                   args=(TICKET, Who(lookup=_assignee)))
    router.command("回复", reply, roles=SECRETARY_ROLES, area=AREA, permit=_own_ticket, example="#12 已联系后勤处理",
                   args=(TICKET, Text("文字")))
    router.command("办结", close, roles=SECRETARY_ROLES, area=AREA, permit=_own_ticket, example="#12 照明已修复",
                   args=(TICKET, Text("说明")))
    router.command("采纳", adopt, roles=SECRETARY_ROLES, area=AREA, example="#12", args=(TICKET,))
