"""The router: the command table (words, by longest prefix), and the routes that are not words, each in an
explicit order: `guard` routes run before the table (a question never reaches the command it asks about; a
picture is never a command), `add` routes after it (events, menu keys, the card button, free text), then
the fallback. One place answers refusals: a `Refusal` raised by a handler, a service or an argument parser
is the reply, and arguments that do not fit the declaration are answered with the command's usage.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from bot import paging
from bot.message import Reply
from bot.parse import ParseError
from bot.refusal import Refusal
from bot.router.args import Arg, BadArgs, parse
from bot.router.context import Context, as_reply, not_member, role_label, role_refusal
from bot.router.rules import Rule
from bot.router.table import Command, CommandTable, Found

Handler = Callable[..., Reply | str | None]


@dataclass(frozen=True)
class Route:
    """A route that is not a command word."""

    rule: Rule
    handler: Handler
    strangers: bool = False


class Router:
    def __init__(self) -> None:
        self.table = CommandTable()
        self.guards: list[Route] = []
        self.routes: list[Route] = []
        self.fallback: Handler | None = None

    def command(self, words: str | tuple[str, ...], handler: Handler, *, roles: Iterable[str] = (),
                args: tuple[Arg, ...] | None = None, **options: Any) -> Command:
        """Add a command word (or several words for one command); raises DuplicateWord on a clash."""
        command = Command((words,) if isinstance(words, str) else tuple(words), handler, tuple(roles), args,
                          **options)
        self.table.add(command)
        return command

    def guard(self, rule: Rule, handler: Handler, strangers: bool = False) -> None:
        """A route tried before the command table, in the order added."""
        self.guards.append(Route(rule, handler, strangers))

    def add(self, rule: Rule, handler: Handler, strangers: bool = False) -> None:
        """A route tried after the command table, in the order added."""
        self.routes.append(Route(rule, handler, strangers))

    def on_unknown(self, handler: Handler) -> None:
        self.fallback = handler

    # What 帮助, questions and suggestions read.
    def commands(self, member: Any = None, everyone: bool = False) -> list[Command]:
        """Listed commands in the order they were added: those `member` may run (all with `everyone`)."""
        return [c for c in self.table if c.help and (everyone or c.allowed(member))]

    def command_words(self, member: Any) -> list[str]:
        return [w for c in self.commands(member) for w in c.words]

    def is_anonymous(self, text: str) -> bool:
        """The text is a command declared anonymous (匿名反映): its sender is sealed (bot.inbound). Used where
        the handler did not run (a failure, a give-up); `@支部编码 ` in front counts too."""
        if text.startswith("@"):
            text = text.partition(" ")[2].strip()
        found = self.table.match(text)
        return found is not None and found.command.anonymous

    def suggest(self, text: str, member: Any, limit: int = 3) -> list[str]:
        """The nearest commands to an unknown text: shared leading words, then difflib similarity."""
        words = self.command_words(member)
        head = text.split(" ", 1)[0]
        near = [w for w in words if head.startswith(w) or w.startswith(head[:2])]
        near += difflib.get_close_matches(head, words, n=limit, cutoff=0.3)
        return list(dict.fromkeys(near))[:limit]

    def dispatch(self, ctx: Context) -> Reply:
        """The reply to `ctx`, paged to fit the platform's limit (bot.paging)."""
        return paging.fit(ctx, self._route(ctx))

    def _route(self, ctx: Context) -> Reply:
        ctx.router = self
        try:
            if ctx.message.msg_type == "text" and ctx.text.startswith("@"):
                _target_branch(ctx)
            return self._run(ctx)
        except Refusal as refusal:
            return Reply(str(refusal))

    def _run(self, ctx: Context) -> Reply:
        for route in self.guards:
            if (reply := self._try(ctx, route)) is not None:
                return reply
        found = self.table.match(ctx.text) if ctx.message.msg_type == "text" else None
        if found is not None:
            return self._command(ctx, found)
        for route in self.routes:
            if (reply := self._try(ctx, route)) is not None:
                return reply
        if ctx.member is None:
            return Reply(not_member(ctx)) if ctx.message.msg_type == "text" else Reply()
        if self.fallback is not None and ctx.message.msg_type == "text":
            return as_reply(self.fallback(ctx))
        return Reply()

    def _try(self, ctx: Context, route: Route) -> Reply | None:
        hit = route.rule(ctx)
        if hit is None:
            return None
        if ctx.member is None and not route.strangers:
            return Reply(not_member(ctx))
        ctx.match = hit.regex
        return as_reply(route.handler(ctx))

    def _command(self, ctx: Context, found: Found) -> Reply:
        command = found.command
        ctx.sealed = ctx.sealed or command.anonymous
        if ctx.member is None and not command.strangers:
            return Reply(not_member(ctx))
        ctx.word, ctx.args = found.word, found.args
        if not command.allowed(ctx.member) and not (command.permit is not None and command.permit(ctx)):
            return Reply(role_refusal(command.roles))
        try:
            values = parse(ctx, command.args) if command.args is not None else {}
        except BadArgs:
            return Reply(command.usage())
        except ParseError as error:  # a date or time it cannot read: why, then what to send
            return Reply(f"{error}\n{command.usage()}")
        return as_reply(command.handler(ctx, **values))


def _target_branch(ctx: Context) -> None:
    """`@code 命令`: a committee member runs a secretary command for another branch."""
    from sqlmodel import func, select

    from bot.models import Branch

    head, _, rest = ctx.text.partition(" ")
    if ctx.member is None or not ctx.member.has_role("committee"):
        raise Refusal.of("role.needed", role=role_label("committee"))
    branch = ctx.session.exec(select(Branch).where(func.lower(Branch.code) == head[1:].lower())).first()
    if branch is None:
        raise Refusal.of("branch.unknown", code=head[1:])
    ctx.state["branch_id"] = branch.id
    sent = ctx.message.sent.strip().split(None, 1)
    ctx.message = replace(ctx.message, text=rest.strip(), sent=sent[1] if len(sent) > 1 else "")
