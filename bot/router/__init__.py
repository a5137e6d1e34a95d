"""Chat routing: one command table (word → command, longest prefix, duplicates refused), declared argument
shapes parsed once, the routes that are not words in an explicit order, and one place where refusals become
replies. A handler is `handler(ctx, **arguments) -> Reply | str | None`; its docstring's first line is its
help line ("命令 — 说明"), so help never drifts from behaviour.
"""

from bot.refusal import Refusal
from bot.router.args import Arg, BadArgs, Choice, Code, Date, Month, Number, Positive, Text, Token, When, Who
from bot.router.context import (
    SECRETARY_ROLES,
    SEPARATORS,
    Context,
    as_reply,
    not_member,
    role_label,
    role_refusal,
)
from bot.router.core import Route, Router
from bot.router.rules import Event, Hit, MenuKey, Regex, Rule, Test
from bot.router.table import Command, CommandTable, DuplicateWord, Found

__all__ = ["SECRETARY_ROLES", "SEPARATORS", "Arg", "BadArgs", "Choice", "Code", "Command", "CommandTable",
           "Context", "Date", "DuplicateWord", "Event", "Found", "Hit", "MenuKey", "Month", "Number", "Positive",
           "Refusal", "Regex", "Route", "Router", "Rule", "Test", "Text", "Token", "When", "Who", "as_reply",
           "not_member", "role_label", "role_refusal"]
