"""Argument shapes a route declares (编号, 成员, 分值, 日期 时间, one of a few words, the rest as text), parsed
once before the handler runs; the handler gets them as keyword arguments, typed. Text that does not fit the
declaration is answered with the route's usage, derived from the same declaration (`Command.usage`).

Arguments are separated by spaces, `，`, `、` or `：` (CONTRACT "Chat input"). Tokens are parsed from the
normalised text (NFKC) and stored as sent: `Text` and `Token(as_sent=True)` give the member's own characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.router.context import ARG_SEP

if TYPE_CHECKING:
    from bot.router.context import Context

Values = dict[str, Any]
_NUMBER = re.compile(r"#?(\d{1,9})")
_POSITIVE = re.compile(r"\+?(\d{1,4})")
_MONTH = re.compile(r"(\d{4})[-/.年](\d{1,2})月?")


class BadArgs(Exception):
    """The text does not fit the route's declaration: dispatch answers the route's usage."""


_WORDS = re.compile(r"[\s,，、]+")  # between words that may hold a colon (a place, a link)


def _head(norm: str, raw: str, sep: re.Pattern[str] = ARG_SEP) -> tuple[str, str, str, str]:
    """The first token of both forms (normalised, as sent) and what follows each."""
    n, r = sep.split(norm.strip(), maxsplit=1), sep.split(raw.strip(), maxsplit=1)
    return n[0], r[0], (n[1] if len(n) > 1 else ""), (r[1] if len(r) > 1 else "")


@dataclass(frozen=True)
class Arg:
    label: str  # as shown in the usage: 编号, 成员, 原因
    name: str  # the handler's keyword argument
    optional: bool = False
    default: Any = None
    brackets: bool = True  # an optional argument is shown [in brackets] in the usage
    in_usage: bool = True  # False: accepted but not offered (通过's optional note)
    only: Callable[[Values], bool] | None = None  # taken only when this holds for the values before it

    def take(self, ctx: Context, norm: str, raw: str, values: Values) -> tuple[Any, str, str]:
        token, raw_token, norm_rest, raw_rest = _head(norm, raw)
        return self.convert(ctx, token, raw_token, values), norm_rest, raw_rest

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        return token

    def resolve(self, ctx: Context, value: Any, values: Values) -> Any:
        """The second pass, once the whole text fits: what the value names (a database lookup may refuse)."""
        return value

    @property
    def shown(self) -> str:
        return f"[{self.label}]" if self.optional and self.brackets else self.label


@dataclass(frozen=True)
class Number(Arg):
    """`N` or `#N`; `load(ctx, number)` turns it into the object it numbers (its refusals are the reply)."""

    label: str = "编号"
    name: str = "number"
    load: Callable[[Context, int], Any] | None = None

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        m = _NUMBER.fullmatch(token)
        if m is None:
            raise BadArgs(token)
        return int(m.group(1))

    def resolve(self, ctx: Context, value: Any, values: Values) -> Any:
        return self.load(ctx, value) if self.load is not None and value is not None else value


@dataclass(frozen=True)
class Who(Arg):
    """A userid or a roster name (bot.services.member_lookup) in the branch the command acts on (every branch
    for a committee member without `@支部编码`), or as `lookup(ctx, token, values)` finds it."""

    label: str = "成员"
    name: str = "member"
    lookup: Callable[[Context, str, Values], Any] | None = None

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        if not token:
            raise BadArgs(token)
        return token

    def resolve(self, ctx: Context, value: Any, values: Values) -> Any:
        if value is None:
            return None
        from bot.services.member_lookup import SeveralMembers, one_member, scope

        try:
            if self.lookup is not None:
                return self.lookup(ctx, value, values)
            return one_member(ctx.session, value, scope(ctx.member, ctx.branch_id, ctx.chosen))
        except SeveralMembers as several:  # the reply shows the command again with a userid for the name
            raise several.example(f"{ctx.word} {ctx.args}") from None


@dataclass(frozen=True)
class Positive(Arg):
    """A whole number from 1 to `high`, written without a sign (or with `+`): a negative one is answered with
    the usage (the command word says add or deduct); anything else that is not one with `invalid(ctx)`."""

    high: int = 9999
    invalid: Callable[[Context], str] | None = None

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        if token.startswith(("-", "−")):
            raise BadArgs(token)
        m = _POSITIVE.fullmatch(token)
        if m is None or not 1 <= int(m.group(1)) <= self.high:
            from bot.refusal import Refusal

            raise Refusal(self.invalid(ctx)) if self.invalid is not None else BadArgs(token)
        return int(m.group(1))


@dataclass(frozen=True)
class Choice(Arg):
    """One of a few words (定级's 急难|重大|一般|萌芽)."""

    choices: tuple[str, ...] = ()

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        if token not in self.choices:
            raise BadArgs(token)
        return token

    @property
    def shown(self) -> str:
        return "|".join(self.choices)


@dataclass(frozen=True)
class Token(Arg):
    """One token; `as_sent` keeps the member's characters (a place), else the normalised form."""

    as_sent: bool = False

    def take(self, ctx: Context, norm: str, raw: str, values: Values) -> tuple[Any, str, str]:
        token, raw_token, norm_rest, raw_rest = _head(norm, raw, _WORDS)
        return self.convert(ctx, token, raw_token, values), norm_rest, raw_rest

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> Any:
        if not token:
            raise BadArgs(token)
        return raw_token if self.as_sent else token


@dataclass(frozen=True)
class When(Arg):
    """An event's date and time as CONTRACT "Chat input" writes them (`12月5日 下午2点半`, `2026-12-05 14:30`),
    in the future: an aware datetime. Not a date and a time there: say to write them first; one that does
    not exist or is past: why."""

    label: str = "日期 时间"
    name: str = "starts"

    def take(self, ctx: Context, norm: str, raw: str, values: Values) -> tuple[Any, str, str]:
        from bot import clock, parse
        from bot.services.theme_day.agenda import past_check

        found = parse.take_when(norm, clock.today())
        if found is None:
            from bot.refusal import Refusal

            raise Refusal.of("theme_day.bad_time")  # 「请先写日期再写时间…」
        day, time, rest = found
        taken = len(ARG_SEP.split(norm.strip())) - len(ARG_SEP.split(rest.strip())) if rest.strip() else None
        pieces = ARG_SEP.split(raw.strip(), maxsplit=taken) if taken is not None else []
        raw_rest = pieces[taken] if taken is not None and len(pieces) > taken else ""
        return past_check(clock.at(day, time)), rest.strip(), raw_rest


@dataclass(frozen=True)
class Code(Arg):
    """`digits` digits kept as written (a sign-in code 0427, a phone's last four); a `lead` word written before
    them is dropped (「签到码1296」 reaches 签到 as 「码1296」)."""

    label: str = "码"
    name: str = "code"
    digits: int = 4
    lead: str = ""

    def take(self, ctx: Context, norm: str, raw: str, values: Values) -> tuple[Any, str, str]:
        if self.lead:
            lead = re.compile(rf"^{re.escape(self.lead)}[\s,，、:：]*(?=\d)")
            norm, raw = lead.sub("", norm.strip()), lead.sub("", raw.strip())
        return super().take(ctx, norm, raw, values)

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> str:
        if len(token) != self.digits or not (token.isascii() and token.isdigit()):
            raise BadArgs(token)
        return token


@dataclass(frozen=True)
class Month(Arg):
    """A month: `2026-11`, `2026/11`, `2026.11`, `2026年11月`; the first day of it."""

    label: str = "年-月"
    name: str = "month"

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> dt.date:
        m = _MONTH.fullmatch(token)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise BadArgs(token)
        return dt.date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Date(Arg):
    """A date (bot.parse); `past` picks the year of a date written without one (补签: the latest such date
    before today; events: the earliest not in the past). One it cannot read says why (a ParseError), and
    dispatch adds the usage."""

    label: str = "日期"
    name: str = "day"
    past: bool = True

    def convert(self, ctx: Context, token: str, raw_token: str, values: Values) -> dt.date:
        from bot import clock, parse

        return parse.parse_date(token, clock.today(), self.past)


@dataclass(frozen=True)
class Text(Arg):
    """The rest of the text, as sent (stored as the member wrote it); `min_len` characters at least."""

    name: str = "text"
    min_len: int = 1
    default: Any = ""

    def take(self, ctx: Context, norm: str, raw: str, values: Values) -> tuple[Any, str, str]:
        text = raw.strip()
        if len(text) < self.min_len:
            raise BadArgs(text)
        return text, "", ""


def parse(ctx: Context, args: tuple[Arg, ...]) -> Values:
    """The declared arguments of `ctx.args`: BadArgs (the usage) when there are fewer pieces than required
    arguments or some text is left over; a Refusal says why one argument is wrong. The shape of the whole
    text is checked before any argument is looked up (`resolve`)."""
    norm, raw = ctx.args.strip(), ctx.raw_args.strip()
    pieces = len(ARG_SEP.split(norm)) if norm else 0
    if pieces < sum(1 for arg in args if not arg.optional):
        raise BadArgs(norm)
    values: Values = {}
    for arg in args:
        if arg.only is not None and not arg.only(values):
            values[arg.name] = arg.default
            continue
        if not norm:
            if not arg.optional:
                raise BadArgs("")
            values[arg.name] = arg.default
            continue
        values[arg.name], norm, raw = arg.take(ctx, norm, raw, values)
    if norm.strip():
        raise BadArgs(norm)
    for arg in args:
        values[arg.name] = arg.resolve(ctx, values[arg.name], values)
    return values
