"""The command table: every chat command word → one `Command`, matched by longest prefix (nonebot2's TrieRule).

A word is registered once: a second registration raises at build time, so which command a text reaches never
depends on the order modules register in. Run-on text is matched by its longest word that fits: 「取消免打扰」
beats 「取消」, 「签到码」 beats 「签到」, 「补签到」 beats 「补签」. A word fits when the text is the word alone, or
the word is followed by a separator (space, `：`, `:`, `，`), or it runs on (`runon`, words of two characters
or more, 「请假家中有事」) and the command takes an argument; a bare command (no arguments) only fits alone
and otherwise leaves the text to the next shorter word (「签到码1296」 is 签到), unless it names `then`, the
command its word followed by text means (「承诺公示…」 is 承诺 with that text).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.router.args import Arg, Number
from bot.router.context import SEPARATORS, Context

Handler = Callable[..., Any]


class DuplicateWord(ValueError):
    """Two commands claim one word."""


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # the first is the command's name in help and usage
    handler: Handler
    roles: tuple[str, ...] = ()  # empty: any roster member
    args: tuple[Arg, ...] | None = None  # None: the handler reads ctx.args itself
    bare: bool = False  # takes no argument: the word alone
    area: str = ""  # the 帮助 area it is listed under
    listed: bool = True  # shown by 帮助
    strangers: bool = False  # also runs for senders not on the roster (绑定)
    anonymous: bool = False  # the sender is sealed (bot.inbound): no name, no time finer than the day
    runon: bool | None = None  # may the argument follow the word without a separator (None: words of 2+ chars)
    then: str = ""  # a bare word followed by text is this word's command with that text
    example: str = ""  # the arguments of an example, for the usage
    note: str = ""  # one remark for the usage (「分值写正数」)
    basic: bool = False  # one of the daily basics at the top of 帮助
    permit: Callable[[Context], bool] | None = None  # lets a sender without the roles run it (the assignee)

    @property
    def word(self) -> str:
        return self.words[0]

    @property
    def name(self) -> str:
        return getattr(self.handler, "__name__", self.word)

    @functools.cached_property
    def help(self) -> str:
        """The handler's docstring's first line ("命令 参数 — 说明"); empty when not listed. Read once: 帮助,
        questions and the fallback list every command's line."""
        doc = inspect.getdoc(self.handler) or ""
        return doc.splitlines()[0].strip() if doc and self.listed else ""

    @property
    def synopsis(self) -> str:
        """The command and its declared arguments: 「指派 编号 成员」."""
        return " ".join([self.word, *(a.shown for a in self.args or () if a.in_usage)])

    def usage(self) -> str:
        """The reply to arguments that do not fit: what to send, derived from the declaration."""
        from bot import texts

        note = f"（{self.note}）" if self.note else ""
        if self.example:
            return texts.t("usage.example", synopsis=self.synopsis, note=note, example=f"{self.word} {self.example}")
        return texts.t("usage.plain", synopsis=self.synopsis, note=note)

    def allowed(self, member: Any) -> bool:
        if not self.roles:
            return True
        return member is not None and member.has_role(*self.roles)


@dataclass(frozen=True)
class Found:
    """What the table matched: the command, the word, and the normalised text after it and its separator."""

    command: Command
    word: str
    args: str


class CommandTable:
    def __init__(self) -> None:
        self._words: dict[str, Command] = {}
        self._longest = 0

    def add(self, command: Command) -> None:
        for word in command.words:
            if word in self._words:
                raise DuplicateWord(f"「{word}」 is claimed by {self._words[word].name} and {command.name}")
        for word in command.words:
            self._words[word] = command
            self._longest = max(self._longest, len(word))

    def __iter__(self) -> Iterator[Command]:
        return iter(dict.fromkeys(self._words.values()))

    def __contains__(self, word: str) -> bool:
        return word in self._words

    def words(self) -> dict[str, Command]:
        return dict(self._words)

    def match(self, text: str) -> Found | None:
        """The command `text` is, by its longest word that fits (see the module docstring), else None."""
        for end in range(min(len(text), self._longest), 0, -1):
            word = text[:end].casefold()
            command = self._words.get(word)
            if command is None:
                continue
            rest = text[end:]
            if not rest:
                return Found(command, word, "")
            if command.bare:
                if command.then and (then := self._words.get(command.then)) is not None:
                    return Found(then, word, rest.lstrip(" :,").strip())
                continue
            if rest.startswith(SEPARATORS) or self._runs_on(command, word, rest):
                return Found(command, word, rest.lstrip(" :,").strip())
        return None

    @staticmethod
    def _runs_on(command: Command, word: str, rest: str) -> bool:
        if command.runon is None:
            return len(word) > 1
        if command.runon:
            return True
        first = command.args[0] if command.args else None  # 「完成12」: a number may follow at once
        return isinstance(first, Number) and rest[0] in "#0123456789"
