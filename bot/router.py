"""Ordered routes with composable rules (exact word, prefix, regex, event, menu key, intent) and roles.

A handler is `handler(ctx) -> Reply | str`; its docstring's first line is its help line
("命令 — 说明"), so help never drifts from behaviour. Routes are tried in the order they were added.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot import paging, texts
from bot.message import InboundMessage, Reply, after_word

SECRETARY_ROLES = ("secretary", "deputy", "committee")
_ARG_SEP = re.compile(r"[\s,，、:：]+")


def role_label(role: str) -> str:
    """The word for a role in chat replies (content/messages.toml `labels.role`)."""
    return texts.label("role", role)


class NotAuthorized(Exception):
    """The sender lacks the role a route needs."""


@dataclass
class Context:
    runtime: Any  # bot.runtime.Runtime
    session: Session
    message: InboundMessage
    member: Any = None  # bot.models.Member, None for a stranger
    args: str = ""  # normalised text after the command word and its separator: for parsing
    word: str = ""  # the command word a Prefix rule matched
    match: re.Match[str] | None = None
    router: Router | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # Set by a handler acting on an anonymous report (匿名反映, or 进度/满意/不满意/回复 about one): the inbound
    # row then keeps no sender and no time finer than the day, and a late reply goes sealed.
    sealed: bool = False

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def raw_args(self) -> str:
        """The argument as sent (no NFKC), minus the command word and its separator: what handlers store."""
        if not self.message.sent or not self.word:
            return self.args
        return after_word(self.message.sent, self.word)

    def split(self, n: int) -> tuple[list[str], str]:
        """The first `n` arguments (normalised, for parsing) and the rest as sent (for storing). Arguments
        may be separated by spaces, `，` or `、`: 「践诺 #3，已走访两户」 → (["#3"], "已走访两户")."""
        heads = _ARG_SEP.split(self.args.strip(), maxsplit=n)
        raw = _ARG_SEP.split(self.raw_args.strip(), maxsplit=n)
        rest = raw[n].strip() if len(raw) > n and len(heads) > n else ""
        return heads[:n], rest

    @property
    def config(self) -> Any:
        return self.runtime.config

    @property
    def branch_id(self) -> int | None:
        """The branch a command acts on: the sender's own, or `@code` chosen by a committee member."""
        if "branch_id" in self.state:
            return self.state["branch_id"]
        return self.member.branch_id if self.member is not None else None


class Rule:
    """A predicate on the context; `&` and `|` compose rules."""

    words: tuple[str, ...] = ()

    def __call__(self, ctx: Context) -> bool:
        raise NotImplementedError

    def __and__(self, other: Rule) -> Rule:
        return _All(self, other)

    def __or__(self, other: Rule) -> Rule:
        return _Any(self, other)


class _All(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules
        self.words = tuple(w for r in rules for w in r.words)

    def __call__(self, ctx: Context) -> bool:
        return all(rule(ctx) for rule in self.rules)


class _Any(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules
        self.words = tuple(w for r in rules for w in r.words)

    def __call__(self, ctx: Context) -> bool:
        return any(rule(ctx) for rule in self.rules)


class Word(Rule):
    """The whole text is one of these words."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def __call__(self, ctx: Context) -> bool:
        if ctx.message.msg_type == "text" and (ctx.text in self.words or ctx.text.casefold() in self.words):
            ctx.args = ""
            return True
        return False


SEPARATORS = (" ", ":", ",")  # `：` and `，` after NFKC


class Prefix(Rule):
    """The text starts with a command word; the rest, after a separator (space, `：`, `:`, `，`), is
    `ctx.args`. A one-character word needs a separator ("答 北京", "答：北京"); longer words may run on
    ("请假家中有事")."""

    def __init__(self, *words: str) -> None:
        self.words = tuple(sorted(words, key=len, reverse=True))

    def __call__(self, ctx: Context) -> bool:
        if ctx.message.msg_type != "text":
            return False
        for word in self.words:
            if ctx.text == word:
                ctx.args, ctx.word = "", word
                return True
            rest = ctx.text[len(word):] if ctx.text.startswith(word) else None
            if rest is not None and (len(word) > 1 or rest.startswith(SEPARATORS)):
                ctx.args, ctx.word = rest.lstrip(" :,").strip(), word
                return True
        return False


class Regex(Rule):
    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, ctx: Context) -> bool:
        m = self.pattern.fullmatch(ctx.text) if ctx.message.msg_type == "text" else None
        if m:
            ctx.match = m
            return True
        return False


class Event(Rule):
    def __init__(self, *events: str) -> None:
        self.events = {e.lower() for e in events}

    def __call__(self, ctx: Context) -> bool:
        return ctx.message.is_event and ctx.message.event in self.events


class MenuKey(Rule):
    """A menu `click` event with one of these keys."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)

    def __call__(self, ctx: Context) -> bool:
        return ctx.message.is_event and ctx.message.event == "click" and ctx.message.event_key in self.keys


@dataclass
class Route:
    rule: Rule
    handler: Callable[[Context], Reply | str | None]
    roles: tuple[str, ...] = ()  # empty: any roster member
    help: str = ""  # first docstring line; empty: not listed in 帮助
    strangers: bool = False  # also runs for senders not on the roster (e.g. 绑定)

    def allowed(self, member: Any) -> bool:
        if not self.roles:
            return True
        return member is not None and member.has_role(*self.roles)


def _help_line(handler: Callable[..., Any]) -> str:
    doc = inspect.getdoc(handler) or ""
    return doc.splitlines()[0].strip() if doc else ""


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.fallback: Callable[[Context], Reply | str | None] | None = None

    def add(self, rule: Rule, handler: Callable[[Context], Reply | str | None],
            roles: Iterable[str] = (), listed: bool = True, strangers: bool = False) -> None:
        self.routes.append(Route(rule, handler, tuple(roles), _help_line(handler) if listed else "",
                                 strangers))

    def on_unknown(self, handler: Callable[[Context], Reply | str | None]) -> None:
        self.fallback = handler

    def help_lines(self, member: Any) -> list[str]:
        seen: list[str] = []
        for route in self.routes:
            if route.help and route.allowed(member) and route.help not in seen:
                seen.append(route.help)
        return seen

    def help_sections(self, member: Any) -> tuple[list[str], list[str]]:
        """(lines anyone on the roster may run, lines that need one of the member's roles), no repeats."""
        everyone: list[str] = []
        privileged: list[str] = []
        for route in self.routes:
            if route.help and route.allowed(member) and route.help not in everyone + privileged:
                (privileged if route.roles else everyone).append(route.help)
        return everyone, privileged

    def prefix_words(self) -> tuple[str, ...]:
        """Every word a Prefix rule of any route starts with (commands that take an argument)."""
        return tuple(dict.fromkeys(w for route in self.routes for w in _prefix_words(route.rule)))

    def all_words(self) -> frozenset[str]:
        """Every command word of every route (「取消免打扰」 as well as 「取消」)."""
        return frozenset(w for route in self.routes for w in route.rule.words)

    def command_words(self, member: Any) -> list[str]:
        words: list[str] = []
        for route in self.routes:
            if route.help and route.allowed(member):
                words.extend(w for w in route.rule.words if w not in words)
        return words

    def suggest(self, text: str, member: Any, limit: int = 3) -> list[str]:
        """The nearest commands to an unknown text: shared leading words, then difflib similarity."""
        words = self.command_words(member)
        head = text.split(" ", 1)[0]
        near = [w for w in words if head.startswith(w) or w.startswith(head[:2])]
        near += difflib.get_close_matches(head, words, n=limit, cutoff=0.3)
        out: list[str] = []
        for word in near:
            if word not in out:
                out.append(word)
        return out[:limit]

    def dispatch(self, ctx: Context) -> Reply:
        """The reply to `ctx`, paged to fit the platform's limit (bot.paging)."""
        return paging.fit(ctx, self._route(ctx))

    def _route(self, ctx: Context) -> Reply:
        ctx.router = self
        if ctx.message.msg_type == "text" and ctx.text.startswith("@"):
            refusal = _target_branch(ctx)
            if refusal:
                return Reply(refusal)
        for route in self.routes:
            if not route.rule(ctx):
                continue
            if ctx.member is None and not route.strangers:
                return Reply(not_member(ctx))
            if not route.allowed(ctx.member):
                return Reply(role_refusal(route.roles))
            return as_reply(route.handler(ctx))
        if ctx.member is None:
            return Reply(not_member(ctx)) if ctx.message.msg_type == "text" else Reply()
        if self.fallback is not None and ctx.message.msg_type == "text":
            return as_reply(self.fallback(ctx))
        return Reply()


def _prefix_words(rule: Rule) -> tuple[str, ...]:
    if isinstance(rule, Prefix):
        return rule.words
    return tuple(w for inner in getattr(rule, "rules", ()) for w in _prefix_words(inner))


def _target_branch(ctx: Context) -> str | None:
    """`@code 命令`: a committee member runs a secretary command for another branch."""
    from dataclasses import replace

    from sqlmodel import func, select

    from bot.models import Branch

    head, _, rest = ctx.text.partition(" ")
    if ctx.member is None or not ctx.member.has_role("committee"):
        return texts.t("role.needed", role=role_label("committee"))
    branch = ctx.session.exec(select(Branch).where(func.lower(Branch.code) == head[1:].lower())).first()
    if branch is None:
        return texts.t("branch.unknown", code=head[1:])
    ctx.state["branch_id"] = branch.id
    sent = ctx.message.sent.strip().split(None, 1)
    ctx.message = replace(ctx.message, text=rest.strip(), sent=sent[1] if len(sent) > 1 else "")
    return None


def not_member(ctx: Context) -> str:
    return texts.t("roster.not_member_oa" if ctx.message.channel == "wechat" else "roster.not_member")


def role_refusal(roles: tuple[str, ...]) -> str:
    if set(roles) & {"secretary", "deputy"}:
        return texts.t("role.secretary_only")
    label = "、".join(dict.fromkeys(role_label(r) for r in roles))
    return texts.t("role.needed", role=label)


def as_reply(value: Reply | str | None) -> Reply:
    if value is None:
        return Reply()
    if isinstance(value, Reply):
        return value
    return Reply(text=value)
