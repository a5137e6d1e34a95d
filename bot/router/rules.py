"""Routes that are not command words: events, menu keys, regular expressions and predicates (questions, media,
free text). A rule returns what it matched (a `Hit`), or None; it never changes the context."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.router.context import Context


@dataclass(frozen=True)
class Hit:
    regex: re.Match[str] | None = None


HIT = Hit()


class Rule:
    """A predicate on the context; `&` and `|` compose rules."""

    def __call__(self, ctx: Context) -> Hit | None:
        raise NotImplementedError

    def __and__(self, other: Rule) -> Rule:
        return _All(self, other)

    def __or__(self, other: Rule) -> Rule:
        return _Any(self, other)


class _All(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def __call__(self, ctx: Context) -> Hit | None:
        hit: Hit | None = HIT
        for rule in self.rules:
            hit = rule(ctx)
            if hit is None:
                return None
        return hit


class _Any(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def __call__(self, ctx: Context) -> Hit | None:
        for rule in self.rules:
            hit = rule(ctx)
            if hit is not None:
                return hit
        return None


class Test(Rule):
    """Any predicate on the context."""

    def __init__(self, test: Callable[[Context], Any]) -> None:
        self.test = test

    def __call__(self, ctx: Context) -> Hit | None:
        return HIT if self.test(ctx) else None


class Regex(Rule):
    """The whole text matches; the handler finds the match in `ctx.match`."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, ctx: Context) -> Hit | None:
        m = self.pattern.fullmatch(ctx.text) if ctx.message.msg_type == "text" else None
        return Hit(regex=m) if m else None


class Event(Rule):
    def __init__(self, *events: str) -> None:
        self.events = {e.lower() for e in events}

    def __call__(self, ctx: Context) -> Hit | None:
        return HIT if ctx.message.is_event and ctx.message.event in self.events else None


class MenuKey(Rule):
    """A menu `click` event with one of these keys."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)

    def __call__(self, ctx: Context) -> Hit | None:
        ok = ctx.message.is_event and ctx.message.event == "click" and ctx.message.event_key in self.keys
        return HIT if ok else None
