"""完成 编号: one command for everything a secretary marks done; the kind of the number says what it closes
(a commitment: fulfilled and put to the vote; a talk or follow-up task: closed). Without a number: the open
tasks."""

from bot import texts
from bot.models import CaseNumber
from bot.router import SECRETARY_ROLES, Context, Number, Router, Text
from bot.services import commitments, tasks
from handlers.approvals import AREA


def _open_tasks(ctx: Context) -> str:
    rows = tasks.open_tasks(ctx.session, ctx.branch_id)
    if not rows:
        return texts.t("task.usage_none")
    lines = [texts.t("task.open_header", count=len(rows))]
    lines += [f"#{t.number} {t.summary}" for t in rows[:15]]
    return "\n".join([*lines, texts.t("task.usage")])


def complete(ctx: Context, number: int | None, note: str) -> str:
    """完成 编号 — 确认党员承诺已兑现，或谈心谈话、跟进任务完成后销号（如 完成 #12）"""
    if number is None:
        return _open_tasks(ctx)
    case = ctx.session.get(CaseNumber, number)
    if case is not None and case.kind == "commitment":
        row = commitments.fulfil(ctx.session, ctx.config, ctx.member, number, ctx.state.get("branch_id"))
        assert row.vote_until is not None  # set by fulfil
        return texts.t("commitments.fulfilled", number=number, until=row.vote_until.isoformat())
    task = tasks.complete(ctx.session, ctx.member, number, note, ctx.state.get("branch_id"))
    return texts.t("task.done", number=task.number, summary=task.summary)


def register(router: Router) -> None:
    router.command("完成", complete, roles=SECRETARY_ROLES, area=AREA, runon=False, example="#12",
                   args=(Number(optional=True), Text("说明", "note", optional=True)))
