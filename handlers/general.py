"""帮助, 下一页, the first-visit welcome, the help menu key and the answer to text nobody understood."""

from bot import clock, paging, texts
from bot.router import Context, Event, MenuKey, Prefix, Router, Word

MAX_REPLY_BYTES = 2000  # a text reply must stay under WeCom's 2048 bytes


def _role_label(ctx: Context) -> str:
    roles = ctx.member.role_set if ctx.member else frozenset()
    top = next((r for r in ("committee", "secretary", "deputy", "admin", "editor", "reviewer") if r in roles),
               "member")
    return texts.label("role", top)


def command_of(line: str) -> str:
    """The command part of a help line ("已学 / 打卡 / 1 — …" → "已学 / 打卡 / 1")."""
    return line.split(" — ", 1)[0]


_command = command_of


def show_help(ctx: Context) -> str:
    """帮助 — 查看我能用的指令（「帮助 补签」看某条指令的用法）"""
    assert ctx.router is not None  # set by Router.dispatch
    everyone, privileged = ctx.router.help_sections(ctx.member)
    if ctx.args:
        wanted = ctx.args.lstrip("#")
        found = [line for line in everyone + privileged if wanted in _command(line)]
        if not found:
            return texts.t("help.no_such", word=ctx.args)
        return "\n".join(f"· {line}" for line in found[:10])
    header = texts.t("help.header", role=_role_label(ctx))
    full = [header, *(f"· {line}" for line in everyone)]
    if privileged:
        full += [texts.t("help.privileged"), *(f"· {line}" for line in privileged)]
    full.append(texts.t("help.footer"))
    text = "\n".join(full)
    if len(text.encode()) <= MAX_REPLY_BYTES:
        return text
    compact = [header, "、".join(dict.fromkeys(_command(line) for line in everyone))]
    if privileged:
        compact += [texts.t("help.privileged"), "、".join(dict.fromkeys(_command(line) for line in privileged))]
    compact.append(texts.t("help.footer_compact"))
    return "\n".join(compact)


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
    router.add(Prefix("帮助") | Word("help", "?", "？", "菜单") | MenuKey("help"), show_help)
    router.add(Word("下一页"), next_page)
    router.add(Event("enter_agent", "subscribe"), welcome, listed=False)


def register_fallback(router: Router) -> None:
    router.on_unknown(unknown)
