"""帮助 (a short menu for the sender's role, `帮助 类别`, `帮助 指令`), 下一页, the first-visit welcome, the help
menu key and the answer to text nobody understood. Every line comes from the command table: a command's
help line is its handler's docstring, its usage its declaration, so help never drifts from behaviour."""

from bot import clock, paging, texts
from bot.router import Command, Context, Event, MenuKey, Router, Text

AREA = "设置"
# The areas 帮助 offers, in this order (a command's `area`); an area shows when the sender may run one of it.
AREAS = ("学习", "主题党日", "反映问题", "积分", "承诺", "述评", "设置", "支部管理", "党委")


def _role_label(ctx: Context) -> str:
    roles = ctx.member.role_set if ctx.member else frozenset()
    top = next((r for r in ("committee", "secretary", "deputy", "admin", "editor", "reviewer") if r in roles),
               "member")
    return texts.label("role", top)


def command_of(line: str) -> str:
    """The command part of a help line ("已学 / 打卡 / 1 — …" → "已学 / 打卡 / 1")."""
    return line.split(" — ", 1)[0]


def _commands(ctx: Context) -> list[Command]:
    assert ctx.router is not None  # set by Router.dispatch
    return ctx.router.commands(ctx.member)


def show_help(ctx: Context, topic: str = "") -> str:
    """帮助 — 查看常用指令（「帮助 主题党日」看一类指令，「帮助 补签」看一条指令的用法）"""
    commands = _commands(ctx)
    if topic:
        return _detail(commands, topic.strip())
    lines = [texts.t("help.header", role=_role_label(ctx))]
    lines += [f"· {c.help}" for c in commands if c.basic]
    areas = [a for a in AREAS if any(c.area == a for c in commands)]
    lines.append(texts.t("help.areas", areas="、".join(areas)))
    if ctx.member is not None and ctx.member.has_role("committee"):
        lines.append(texts.t("help.branch_prefix"))
    lines.append(texts.t("help.footer"))
    return "\n".join(lines)


def _detail(commands: list[Command], topic: str) -> str:
    """`帮助 类别`: the area's commands, one per line; `帮助 指令`: that command's help line and usage."""
    if topic in AREAS:
        shown = [f"· {c.help}" for c in commands if c.area == topic]
        if shown:
            return "\n".join([texts.t("help.area_header", area=topic), *shown, texts.t("help.area_footer")])
    wanted = topic.lstrip("#")
    exact = [c for c in commands if wanted in c.words]
    found = exact or [c for c in commands if wanted in command_of(c.help)]
    if not found:
        return texts.t("help.no_such", word=topic)
    lines: list[str] = []
    for command in found[:6]:
        lines.append(f"· {command.help}")
        if command.args and len(found) == 1:
            lines.append(command.usage())
    return "\n".join(lines)


def next_page(ctx: Context) -> str:
    """下一页 — 查看上一条长回复的下一页（10 分钟内有效）"""
    return paging.next_page(ctx.session, ctx.member)


def welcome(ctx: Context) -> str | None:
    """The first time a member opens the app: a two-line welcome; later visits stay silent."""
    if ctx.member.welcomed_at is not None:
        return None
    ctx.member.welcomed_at = clock.now()
    ctx.session.add(ctx.member)
    return texts.t("welcome.text", name=ctx.member.name)


def unknown(ctx: Context) -> str:
    """Text that matched no command: suggest the nearest ones."""
    assert ctx.router is not None  # set by Router.dispatch
    near = ctx.router.suggest(ctx.text, ctx.member)
    shown = ctx.text if len(ctx.text) <= 20 else ctx.text[:20] + "…"
    if near:
        return texts.t("unknown.suggest", text=shown, commands="、".join(f"「{w}」" for w in near))
    return texts.t("unknown.none", text=shown)


def register(router: Router) -> None:
    router.command(("帮助", "help", "菜单", "?", "？"), show_help, area=AREA,
                   args=(Text("类别或指令", "topic", optional=True),))
    router.command("下一页", next_page, bare=True, area=AREA)
    router.add(MenuKey("help"), show_help)
    router.add(Event("enter_agent", "subscribe"), welcome)


def register_fallback(router: Router) -> None:
    router.on_unknown(unknown)
