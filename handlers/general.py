"""帮助, the first-visit welcome, the help menu key and the answer to text nobody understood."""

from bot import clock, texts
from bot.router import ROLE_LABELS, Context, Event, Intent, MenuKey, Router, Word


def show_help(ctx: Context) -> str:
    """帮助 — 查看我能用的指令"""
    roles = ctx.member.role_set if ctx.member else frozenset()
    top = next((r for r in ("committee", "secretary", "deputy", "admin", "editor", "reviewer") if r in roles),
               "member")
    lines = [texts.t("help.header", role=ROLE_LABELS[top])]
    lines += [f"· {line}" for line in ctx.router.help_lines(ctx.member)]
    lines.append(texts.t("help.footer"))
    return "\n".join(lines)


def welcome(ctx: Context) -> str | None:
    """The first time a member opens the app: a two-line welcome; later visits stay silent."""
    if ctx.member.welcomed_at is not None:
        return None
    ctx.member.welcomed_at = clock.now()
    ctx.session.add(ctx.member)
    return texts.t("welcome.text", name=ctx.member.name)


def unknown(ctx: Context) -> str:
    """Text that matched no command: suggest the nearest ones."""
    near = ctx.router.suggest(ctx.text, ctx.member)
    shown = ctx.text if len(ctx.text) <= 20 else ctx.text[:20] + "…"
    if near:
        return texts.t("unknown.suggest", text=shown, commands="、".join(f"「{w}」" for w in near))
    return texts.t("unknown.none", text=shown)


def register(router: Router) -> None:
    router.add(Word("帮助", "help", "?", "？", "菜单") | MenuKey("help") | Intent("help"), show_help)
    router.add(Event("enter_agent", "subscribe"), welcome, listed=False)


def register_fallback(router: Router) -> None:
    router.on_unknown(unknown)
