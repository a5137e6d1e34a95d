"""政治生日: 退订生日 / 订阅生日 for members; 完成 编号 closes a secretary's talk or follow-up task."""

from bot import texts
from bot.router import SECRETARY_ROLES, Context, Regex, Router, Word
from bot.services import approvals, tasks
from handlers.preferences import switch


def optout(ctx: Context) -> str:
    """退订生日 — 不再接收政治生日祝福"""
    return switch(ctx, "birthday_optout", True, "birthday.off", "birthday.already_off")


def optin(ctx: Context) -> str:
    """订阅生日 — 恢复接收政治生日祝福"""
    return switch(ctx, "birthday_optout", False, "birthday.on", "birthday.already_on")


def complete(ctx: Context) -> str:
    """完成 编号 — 谈心谈话、跟进任务完成后销号（如 完成 #12）"""
    head, _, note = ctx.text[2:].strip().partition(" ")
    number = approvals.parse_number(head)
    if number is None:
        rows = tasks.open_tasks(ctx.session, ctx.branch_id)
        if not rows:
            return texts.t("task.usage_none")
        lines = [texts.t("task.open_header", count=len(rows))]
        lines += [f"#{t.number} {t.summary}" for t in rows[:15]]
        return "\n".join([*lines, texts.t("task.usage")])
    try:
        task = tasks.complete(ctx.session, ctx.member, number, note, ctx.state.get("branch_id"))
    except tasks.TaskError as exc:
        return str(exc)
    return texts.t("task.done", number=task.number, summary=task.summary)


def register(router: Router) -> None:
    router.add(Word("退订生日"), optout)
    router.add(Word("订阅生日"), optin)
    router.add(Regex(r"完成(?:\s*#?\d+(?:\s.*)?)?"), complete, roles=SECRETARY_ROLES)
